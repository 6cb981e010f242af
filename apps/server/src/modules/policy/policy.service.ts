import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Policy, toDaemonConfig } from './daemon-keys';

/**
 * The policy a user's devices receive as daemon keys: the organization's default (ENCLAVE_DEFAULT_POLICY),
 * then the policies of the user's groups in group-name order (a later group overrides an earlier one).
 * Keys nobody set are not sent, so clients keep their own values.
 */
@Injectable()
export class PolicyService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async forUser(userId: string): Promise<Record<string, string | number | boolean>> {
    const groups: { policy: Policy }[] = await this.dataSource.query(
      `SELECT g.policy FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name`,
      [userId],
    );
    return toDaemonConfig(Object.assign({}, this.config.policy.defaults, ...groups.map((g) => g.policy)));
  }
}
