import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { CaSettings } from './ca-settings.entity';
import { CertificateAuthority } from './certificate-authority.entity';

const DAY_MS = 86_400_000;
export const DEFAULT_RENEW_BEFORE_DAYS = 30;

export interface CaSettingsValues {
  accountCertDays: number;
  deviceCertDays: number;
  crlHours: number;
  renewBeforeDays: number;
}

export const CA_SETTINGS_LIMITS: Record<keyof CaSettingsValues, { min: number; max: number }> = {
  accountCertDays: { min: 1, max: 36_500 },
  deviceCertDays: { min: 1, max: 36_500 },
  crlHours: { min: 1, max: 8_760 },
  renewBeforeDays: { min: 1, max: 3_650 },
};

const FIELDS = Object.keys(CA_SETTINGS_LIMITS) as (keyof CaSettingsValues)[];

function valuesOf(row: CaSettings): CaSettingsValues {
  const { accountCertDays, deviceCertDays, crlHours, renewBeforeDays } = row;
  return { accountCertDays, deviceCertDays, crlHours, renewBeforeDays };
}

/**
 * Certificate lifetimes in the database. ENCLAVE_ACCOUNT_CERT_DAYS, ENCLAVE_DEVICE_CERT_DAYS and
 * ENCLAVE_CRL_HOURS only seed the row (clamped to what the active CA allows); owners change them with
 * PUT /api/admin/ca/settings, and issuance reads them here.
 */
@Injectable()
export class CaSettingsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(CaSettings) private readonly rows: Repository<CaSettings>,
    @InjectRepository(CertificateAuthority) private readonly cas: Repository<CertificateAuthority>,
    private readonly audit: AuditService,
  ) {}

  /** The stored values; the first read once the CA exists stores the seed (clamped to the CA's expiry). */
  async get(m?: EntityManager): Promise<CaSettingsValues> {
    return this.read(m, false);
  }

  private async read(m: EntityManager | undefined, store: boolean): Promise<CaSettingsValues> {
    const repo = m ? m.getRepository(CaSettings) : this.rows;
    const row = await repo.findOne({ where: { id: 1 } });
    if (row) return valuesOf(row);
    const { values, caExists } = await this.seed();
    // Before setup there is no CA to clamp to: answer the seed without storing it.
    if (!caExists && !store) return values;
    await repo
      .createQueryBuilder()
      .insert()
      .values({ id: 1, ...values })
      .orIgnore()
      .execute();
    return valuesOf(await repo.findOneOrFail({ where: { id: 1 } }));
  }

  /** Validates every given field (400 naming the first bad one, nothing written), then stores and audits. */
  async update(patch: Partial<CaSettingsValues>, actor: string): Promise<CaSettingsValues> {
    return this.rows.manager.transaction(async (m) => {
      await this.read(m, true);
      await m.getRepository(CaSettings).findOne({ where: { id: 1 }, lock: { mode: 'pessimistic_write' } });
      const before = await this.get(m);
      const after = { ...before };
      for (const field of FIELDS) if (patch[field] !== undefined) after[field] = patch[field];
      await this.validate(after, patch);
      if (FIELDS.every((field) => after[field] === before[field])) return after;
      await m.update(CaSettings, { id: 1 }, after);
      await this.audit.record({ actor, action: 'ca.settings_updated', target: 'ca', before: { ...before }, after }, m);
      return after;
    });
  }

  /**
   * After a rotation to a CA that expires sooner: shortens lifetimes that would outlive it (and the renewal
   * window with them). Returns the values before and after, or null when nothing had to change.
   */
  async clampToCa(
    caNotAfter: Date,
    m: EntityManager,
  ): Promise<{ before: CaSettingsValues; after: CaSettingsValues } | null> {
    const before = await this.read(m, true);
    const leftDays = Math.max(2, Math.floor((caNotAfter.getTime() - Date.now()) / DAY_MS));
    const accountCertDays = Math.min(before.accountCertDays, leftDays);
    const deviceCertDays = Math.min(before.deviceCertDays, accountCertDays);
    const renewBeforeDays = Math.max(1, Math.min(before.renewBeforeDays, deviceCertDays - 1));
    const after = { ...before, accountCertDays, deviceCertDays, renewBeforeDays };
    if (FIELDS.every((field) => after[field] === before[field])) return null;
    await m.update(CaSettings, { id: 1 }, after);
    return { before, after };
  }

  private async validate(next: CaSettingsValues, patch: Partial<CaSettingsValues>): Promise<void> {
    const invalid = (field: keyof CaSettingsValues, message: string): never => {
      throw new AppError(ErrorCode.CA_SETTINGS_INVALID, `${field}: ${message}`, { field, value: next[field] });
    };
    for (const field of FIELDS) {
      const { min, max } = CA_SETTINGS_LIMITS[field];
      const value = next[field];
      if (!Number.isInteger(value) || value < min || value > max) {
        invalid(field, `must be an integer between ${min} and ${max}`);
      }
    }
    const ca = await this.cas.findOne({ where: { active: true } });
    if (ca) {
      const leftDays = Math.floor((ca.notAfter.getTime() - Date.now()) / DAY_MS);
      for (const field of ['accountCertDays', 'deviceCertDays'] as const) {
        if (patch[field] !== undefined && next[field] > leftDays) {
          invalid(
            field,
            `${next[field]} days would outlive the CA, which expires on ${ca.notAfter.toISOString()} (${leftDays} days from now)`,
          );
        }
      }
    }
    if (next.deviceCertDays > next.accountCertDays) {
      invalid('deviceCertDays', `must not exceed accountCertDays (${next.accountCertDays}): devices chain through it`);
    }
    if (next.renewBeforeDays >= Math.min(next.accountCertDays, next.deviceCertDays)) {
      invalid('renewBeforeDays', 'must be shorter than the account and device certificate lifetimes');
    }
  }

  private async seed(): Promise<{ values: CaSettingsValues; caExists: boolean }> {
    const { accountCertDays, deviceCertDays, crlHours } = this.config.pki;
    const ca = await this.cas.findOne({ where: { active: true } });
    const leftDays = ca ? Math.max(1, Math.floor((ca.notAfter.getTime() - Date.now()) / DAY_MS)) : Infinity;
    const account = Math.min(accountCertDays, leftDays);
    const device = Math.min(deviceCertDays, account);
    return {
      values: {
        accountCertDays: account,
        deviceCertDays: device,
        crlHours,
        renewBeforeDays: Math.max(1, Math.min(DEFAULT_RENEW_BEFORE_DAYS, device - 1)),
      },
      caExists: ca !== null,
    };
  }
}
