import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { Setting } from '../setup/setting.entity';

export const SETTING_ADMIN_SECURITY = 'admin.security';

export interface AdminSecuritySettings {
  /** Every admin must use TOTP; one without it can only sign in to enrol. */
  requireMfa: boolean;
  /** A session unused for this long ends. */
  sessionIdleMinutes: number;
  /** A session ends this long after login, used or not. */
  sessionMaxHours: number;
}

const CACHE_MS = 5_000;

/**
 * Admin security settings, stored in the `settings` table under `admin.security`. Until an owner saves
 * them: MFA optional, 30 minutes idle, and an absolute lifetime of ENCLAVE_ADMIN_TOKEN_TTL (12 h default).
 */
@Injectable()
export class AdminSettingsService {
  private cached?: { value: AdminSecuritySettings; at: number };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(Setting) private readonly settings: Repository<Setting>,
    private readonly audit: AuditService,
  ) {}

  defaults(): AdminSecuritySettings {
    return {
      requireMfa: false,
      sessionIdleMinutes: 30,
      sessionMaxHours: this.config.auth.tokenTtlSeconds / 3600,
    };
  }

  async get(): Promise<AdminSecuritySettings> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached.value;
    const row = await this.settings.findOneBy({ key: SETTING_ADMIN_SECURITY });
    const value = { ...this.defaults(), ...((row?.value as Partial<AdminSecuritySettings> | undefined) ?? {}) };
    this.cached = { value, at: Date.now() };
    return value;
  }

  async update(next: AdminSecuritySettings, actor: string): Promise<AdminSecuritySettings> {
    if (next.sessionIdleMinutes > next.sessionMaxHours * 60) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'sessionIdleMinutes must not exceed sessionMaxHours × 60', {
        field: 'sessionIdleMinutes',
      });
    }
    const before = await this.get();
    await this.settings.manager.transaction(async (m: EntityManager) => {
      await m.save(m.create(Setting, { key: SETTING_ADMIN_SECURITY, value: next }));
      await this.audit.record(
        {
          actor,
          action: 'admin.settings_updated',
          target: SETTING_ADMIN_SECURITY,
          before: { ...before },
          after: { ...next },
        },
        m,
      );
    });
    this.cached = undefined;
    return this.get();
  }

  /** The organization name, for the TOTP issuer shown in authenticator apps. */
  async organization(): Promise<string> {
    const row = await this.settings.findOneBy({ key: 'organization' });
    return (row?.value as { name?: string } | undefined)?.name ?? 'Enclave';
  }
}
