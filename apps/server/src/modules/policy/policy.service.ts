import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { toDaemonConfig } from './daemon-keys';

/**
 * The policy a user's devices receive as daemon keys. Until policies are editable in the console, it is
 * the server's default policy (ENCLAVE_DEFAULT_POLICY); keys the organization did not set are not sent, so
 * clients keep their own values.
 */
@Injectable()
export class PolicyService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async forUser(_userId: string): Promise<Record<string, string | number | boolean>> {
    return toDaemonConfig(this.config.policy.defaults);
  }
}
