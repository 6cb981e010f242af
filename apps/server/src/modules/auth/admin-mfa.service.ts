import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { SecretBox } from '../../common/secret-box';
import { AuditService } from '../audit/audit.service';
import { AdminSettingsService } from './admin-settings.service';
import { AdminSession } from './admin-session.entity';
import { Admin } from './admin.entity';
import { RecoveryCodesDto, TotpEnrollmentDto } from './auth.dto';
import { base32Encode, matchTotp, newTotpSecret, otpauthUri } from './totp';

const RECOVERY_CODES = 10;
const totpPurpose = (adminId: string) => `admin-totp:${adminId}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Recovery codes are compared case- and separator-insensitively. */
const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');
const hashRecoveryCode = (code: string) =>
  createHash('sha256')
    .update(`enclave-recovery:${normalizeRecoveryCode(code)}`)
    .digest('hex');

function newRecoveryCode(): string {
  const text = base32Encode(randomBytes(7)).slice(0, 10).toLowerCase();
  return `${text.slice(0, 5)}-${text.slice(5)}`;
}

/**
 * TOTP second factor for admins (RFC 6238, SHA-1, 30 s, 6 digits, ±1 step). The secret is sealed at rest;
 * each accepted time step is recorded so a code is never accepted twice; recovery codes are stored hashed
 * and removed when used.
 */
@Injectable()
export class AdminMfaService {
  constructor(
    @InjectRepository(Admin) private readonly admins: Repository<Admin>,
    private readonly secrets: SecretBox,
    private readonly settings: AdminSettingsService,
    private readonly audit: AuditService,
  ) {}

  private async admin(id: string): Promise<Admin> {
    const admin = await this.admins.findOneBy({ id });
    if (!admin) throw new AppError(ErrorCode.UNAUTHENTICATED, 'A valid admin bearer token is required');
    return admin;
  }

  private secretOf(admin: Admin): Buffer | null {
    return admin.totpSecretSealed ? this.secrets.open(admin.totpSecretSealed, totpPurpose(admin.id)) : null;
  }

  /** Starts (or restarts) an enrolment: a new secret, effective once confirmed with a code. */
  async enroll(adminId: string): Promise<TotpEnrollmentDto> {
    const admin = await this.admin(adminId);
    if (admin.totpEnabledAt) {
      throw new AppError(ErrorCode.MFA_ALREADY_ENABLED, 'TOTP is already enabled; disable it first to enrol again');
    }
    const secret = newTotpSecret();
    await this.admins.update(
      { id: admin.id },
      { totpSecretSealed: this.secrets.seal(secret, totpPurpose(admin.id)), totpLastStep: null },
    );
    return {
      secret: base32Encode(secret),
      otpauthUri: otpauthUri(secret, await this.settings.organization(), admin.username),
    };
  }

  /** Confirms the enrolment with a current code; returns ten one-time recovery codes (shown once). */
  async confirm(adminId: string, code: string): Promise<RecoveryCodesDto> {
    const admin = await this.admin(adminId);
    if (admin.totpEnabledAt) throw new AppError(ErrorCode.MFA_ALREADY_ENABLED, 'TOTP is already enabled');
    const secret = this.secretOf(admin);
    if (!secret) {
      throw new AppError(ErrorCode.MFA_NOT_ENABLED, 'Start the enrolment first: POST /api/admin/me/mfa/totp');
    }
    const step = matchTotp(secret, code.trim(), nowSeconds(), null);
    if (step === null)
      throw new AppError(ErrorCode.MFA_CODE_INVALID, 'code is not a current TOTP code for this secret');
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await this.admins.manager.transaction(async (m) => {
      await m.update(
        Admin,
        { id: admin.id },
        { totpEnabledAt: new Date(), totpLastStep: String(step), recoveryCodeHashes: codes.map(hashRecoveryCode) },
      );
      // Sessions that were only allowed to enrol become full sessions.
      await m.update(AdminSession, { adminId: admin.id }, { mfaSetupRequired: false });
      await this.audit.record(
        { actor: `admin:${admin.username}`, action: 'admin.mfa_enabled', target: admin.username },
        m,
      );
    });
    return { recoveryCodes: codes };
  }

  /** Turns TOTP off with a current code or a recovery code (refused while MFA is required). */
  async disable(adminId: string, code: string): Promise<void> {
    const admin = await this.admin(adminId);
    if (!admin.totpEnabledAt) throw new AppError(ErrorCode.MFA_NOT_ENABLED, 'TOTP is not enabled');
    if ((await this.settings.get()).requireMfa) {
      throw new AppError(ErrorCode.MFA_REQUIRED_BY_POLICY, 'MFA is required for every admin; TOTP cannot be disabled');
    }
    const ok = /^\d{6}$/.test(code.trim())
      ? await this.consumeTotp(admin, code)
      : await this.consumeRecoveryCode(admin, code);
    if (!ok)
      throw new AppError(ErrorCode.MFA_CODE_INVALID, 'code is neither a current TOTP code nor an unused recovery code');
    await this.admins.manager.transaction(async (m) => {
      await m.update(
        Admin,
        { id: admin.id },
        { totpEnabledAt: null, totpSecretSealed: null, totpLastStep: null, recoveryCodeHashes: [] },
      );
      await this.audit.record(
        { actor: `admin:${admin.username}`, action: 'admin.mfa_disabled', target: admin.username },
        m,
      );
    });
  }

  /** True when the code matches a time step newer than the last accepted one; records that step atomically. */
  async consumeTotp(admin: Admin, code: string): Promise<boolean> {
    const step = this.matchTotp(admin, code);
    if (step === null) return false;
    const rows: unknown[] = await this.admins.query(
      `UPDATE admins SET totp_last_step = $1
        WHERE id = $2 AND totp_enabled_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)
        RETURNING id`,
      [step, admin.id],
    );
    return firstRows(rows).length === 1;
  }

  /** The step a code matches (not yet used), without recording it. */
  matchTotp(admin: Admin, code: string): number | null {
    const secret = admin.totpEnabledAt ? this.secretOf(admin) : null;
    if (!secret) return null;
    const last = admin.totpLastStep === null ? null : Number(admin.totpLastStep);
    return matchTotp(secret, code.trim(), nowSeconds(), last);
  }

  /** True when the recovery code was unused; removes it atomically (one-time). */
  async consumeRecoveryCode(admin: Admin, code: string): Promise<boolean> {
    if (!admin.totpEnabledAt || !normalizeRecoveryCode(code)) return false;
    const hash = hashRecoveryCode(code);
    const rows: unknown[] = await this.admins.query(
      `UPDATE admins SET recovery_code_hashes = recovery_code_hashes - $1::text
        WHERE id = $2 AND recovery_code_hashes @> jsonb_build_array($1::text)
        RETURNING id`,
      [hash, admin.id],
    );
    return firstRows(rows).length === 1;
  }
}

/** TypeORM's postgres driver answers UPDATE … RETURNING with [rows, count]. */
function firstRows(result: unknown[]): unknown[] {
  return Array.isArray(result[0]) ? (result[0] as unknown[]) : result;
}
