import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { checkPassword } from '../users/username';
import { AdminMfaService } from './admin-mfa.service';
import { AdminSecuritySettings, AdminSettingsService } from './admin-settings.service';
import { AdminCredentialKind, AdminSession } from './admin-session.entity';
import { Admin } from './admin.entity';
import {
  AdminLoginDto,
  ApiTokenResponseDto,
  CreateApiTokenDto,
  CreatedApiTokenResponseDto,
  MeResponseDto,
  ReauthDto,
  ReauthResponseDto,
  SessionResponseDto,
  TokenResponseDto,
} from './auth.dto';
import { LoginRateLimiter, tooManyAttempts } from './login-rate-limiter';
import { hashPassword, verifyPassword } from './password-hasher';
import { AdminRole, lowerRole, roleWithin } from './roles';

/** Who is calling the admin API. `sessionId` is the credential's id (a session, or an API token's id). */
export interface AdminPrincipal {
  id: string;
  username: string;
  role: AdminRole;
  sessionId: string;
  /** Set when the caller authenticated with a personal API token. */
  tokenId?: string;
}

/** The principal plus what the guard needs to decide. */
export interface AdminAuthentication {
  principal: AdminPrincipal;
  mfaSetupRequired: boolean;
  reauthAt: Date | null;
  mfaEnabled: boolean;
}

/** Re-authentication (password, plus TOTP when enrolled) is valid this long for RequireRecentAuth routes. */
export const REAUTH_WINDOW_MS = 5 * 60_000;
/** lastUsedAt is written at most this often. */
const TOUCH_INTERVAL_MS = 60_000;

const SESSION_PREFIX = 'encs_';
const API_TOKEN_PREFIX = 'enct_';
const hashBearer = (token: string) => createHash('sha256').update(token).digest('hex');
const newBearer = (kind: AdminCredentialKind) =>
  (kind === 'session' ? SESSION_PREFIX : API_TOKEN_PREFIX) + randomBytes(32).toString('base64url');

const unauthenticated = (message = 'A valid admin bearer token is required') =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);

export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

@Injectable()
export class AdminAuthService {
  private readonly limiter: LoginRateLimiter;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectRepository(Admin) private readonly admins: Repository<Admin>,
    @InjectRepository(AdminSession) private readonly sessions: Repository<AdminSession>,
    private readonly settings: AdminSettingsService,
    private readonly mfa: AdminMfaService,
    private readonly audit: AuditService,
  ) {
    this.limiter = new LoginRateLimiter(config.auth.loginMaxFailures, config.auth.loginWindowSeconds);
  }

  /** The first admin (setup, unattended start) is an owner. */
  async createAdmin(
    username: string,
    password: string,
    manager: EntityManager,
    role: AdminRole = AdminRole.OWNER,
  ): Promise<Admin> {
    if (password.length < 8) {
      throw new AppError(ErrorCode.PASSWORD_TOO_SHORT, 'The admin password must be at least 8 characters');
    }
    return manager.save(manager.create(Admin, { username, passwordHash: await hashPassword(password), role }));
  }

  /**
   * Password login with the second factor when enrolled. The attempt is counted before the password is
   * checked. Past the limits, an admin with TOTP still gets in with the right password and a valid code
   * (checked first, so a locked-out guesser gets no password check).
   */
  async login(dto: AdminLoginDto, client: ClientInfo): Promise<TokenResponseDto> {
    const username = dto.username.trim().toLowerCase();
    const retryAfter = this.limiter.retryAfter(client.ip, username);
    if (retryAfter > 0) return this.loginPastLimit(dto, username, client, retryAfter);
    const attempt = this.limiter.reserve(client.ip, username);
    const admin = await this.admins.findOneBy({ username });
    const passwordOk = await verifyPassword(admin?.passwordHash, dto.password);
    if (!admin || !passwordOk || admin.disabled) {
      attempt.fail();
      await this.loginFailed(username, client, !admin ? 'unknown_user' : admin.disabled ? 'disabled' : 'password');
      throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password');
    }
    let secondFactor: 'totp' | 'recovery_code' | null = null;
    if (admin.totpEnabledAt) {
      if (!dto.totp && !dto.recoveryCode) {
        attempt.fail();
        await this.loginFailed(username, client, 'mfa_missing');
        throw new AppError(
          ErrorCode.MFA_REQUIRED,
          'This admin uses TOTP: send totp (or recoveryCode) with the password',
        );
      }
      const ok = dto.totp
        ? await this.mfa.consumeTotp(admin, dto.totp)
        : await this.mfa.consumeRecoveryCode(admin, dto.recoveryCode ?? '');
      if (!ok) {
        attempt.fail();
        await this.loginFailed(username, client, dto.totp ? 'totp' : 'recovery_code');
        throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username, password or second-factor code');
      }
      secondFactor = dto.totp ? 'totp' : 'recovery_code';
    }
    attempt.succeed();
    return this.loginSucceeded(admin, client, secondFactor, false);
  }

  private async loginPastLimit(
    dto: AdminLoginDto,
    username: string,
    client: ClientInfo,
    retryAfter: number,
  ): Promise<TokenResponseDto> {
    const admin = dto.totp ? await this.admins.findOneBy({ username }) : null;
    if (!admin || admin.disabled || this.mfa.matchTotp(admin, dto.totp ?? '') === null) {
      throw tooManyAttempts(retryAfter);
    }
    if (!(await verifyPassword(admin.passwordHash, dto.password))) {
      this.limiter.count(client.ip, username);
      await this.loginFailed(username, client, 'password');
      throw tooManyAttempts(retryAfter);
    }
    if (!(await this.mfa.consumeTotp(admin, dto.totp ?? ''))) throw tooManyAttempts(retryAfter);
    this.limiter.forgive(client.ip, username);
    return this.loginSucceeded(admin, client, 'totp', true);
  }

  private async loginFailed(username: string, client: ClientInfo, reason: string): Promise<void> {
    await this.audit.record({
      actor: `ip:${client.ip}`,
      action: 'admin.login_failed',
      target: username.slice(0, 64),
      details: { reason, ip: client.ip },
    });
  }

  private async loginSucceeded(
    admin: Admin,
    client: ClientInfo,
    secondFactor: string | null,
    pastLimit: boolean,
  ): Promise<TokenResponseDto> {
    const settings = await this.settings.get();
    const mfaSetupRequired = settings.requireMfa && !admin.totpEnabledAt;
    return this.admins.manager.transaction(async (m) => {
      await m.update(Admin, { id: admin.id }, { lastLoginAt: new Date() });
      const token = await this.openSession(admin, { ...client, mfaSetupRequired, manager: m, settings });
      await this.audit.record(
        {
          actor: `admin:${admin.username}`,
          action: 'admin.login',
          target: admin.username,
          details: {
            ip: client.ip,
            sessionId: token.session_id,
            secondFactor,
            ...(pastLimit ? { pastRateLimit: true } : {}),
            ...(mfaSetupRequired ? { mfaSetupRequired } : {}),
          },
        },
        m,
      );
      return token;
    });
  }

  /** A new interactive session; a fresh login counts as a recent re-authentication. */
  async openSession(
    admin: Admin,
    opts: {
      ip?: string;
      userAgent?: string;
      mfaSetupRequired?: boolean;
      manager?: EntityManager;
      settings?: AdminSecuritySettings;
    } = {},
  ): Promise<TokenResponseDto> {
    const settings = opts.settings ?? (await this.settings.get());
    const token = newBearer('session');
    const now = new Date();
    const repo = opts.manager ? opts.manager.getRepository(AdminSession) : this.sessions;
    const row = await repo.save(
      repo.create({
        adminId: admin.id,
        kind: 'session',
        tokenHash: hashBearer(token),
        lastUsedAt: now,
        reauthAt: now,
        mfaSetupRequired: opts.mfaSetupRequired ?? false,
        ip: opts.ip?.slice(0, 64) ?? null,
        userAgent: opts.userAgent?.slice(0, 200) ?? null,
      }),
    );
    return {
      access_token: token,
      expires_in: Math.floor(settings.sessionMaxHours * 3600),
      scope: 'ADMIN',
      session_id: row.id,
      ...(opts.mfaSetupRequired ? { mfa_setup_required: true } : {}),
    };
  }

  private sessionExpiry(row: AdminSession, settings: AdminSecuritySettings): Date {
    if (row.kind === 'token') return row.expiresAt ?? new Date(0);
    const absolute = row.createdAt.getTime() + settings.sessionMaxHours * 3600_000;
    const idle = row.lastUsedAt.getTime() + settings.sessionIdleMinutes * 60_000;
    return new Date(Math.min(absolute, idle));
  }

  /** Resolves a bearer to its admin, refusing unknown, expired (idle or absolute) and disabled ones. */
  async authenticate(bearer: string | undefined): Promise<AdminAuthentication> {
    if (!bearer || bearer.length > 128) throw unauthenticated();
    const row = await this.sessions.findOne({ where: { tokenHash: hashBearer(bearer) }, relations: { admin: true } });
    const admin = row?.admin;
    if (!row || !admin || admin.disabled) throw unauthenticated();
    const settings = await this.settings.get();
    const now = Date.now();
    if (this.sessionExpiry(row, settings).getTime() <= now) {
      await this.sessions.delete({ id: row.id });
      throw unauthenticated(row.kind === 'token' ? 'The API token has expired' : 'The session has expired');
    }
    if (now - row.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
      await this.sessions.update({ id: row.id }, { lastUsedAt: new Date(now) });
    }
    const role = row.kind === 'token' && row.role ? lowerRole(row.role, admin.role) : admin.role;
    return {
      principal: {
        id: admin.id,
        username: admin.username,
        role,
        sessionId: row.id,
        ...(row.kind === 'token' ? { tokenId: row.id } : {}),
      },
      mfaSetupRequired: row.mfaSetupRequired,
      reauthAt: row.kind === 'token' ? null : row.reauthAt,
      mfaEnabled: !!admin.totpEnabledAt,
    };
  }

  async me(auth: AdminAuthentication): Promise<MeResponseDto> {
    const { principal } = auth;
    return {
      id: principal.id,
      username: principal.username,
      role: principal.role,
      mfaEnabled: auth.mfaEnabled,
      mfaSetupRequired: auth.mfaSetupRequired,
      sessionId: principal.sessionId,
      ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
    };
  }

  /** Ends the credential used for this request. */
  async logout(principal: AdminPrincipal): Promise<void> {
    await this.sessions.manager.transaction(async (m) => {
      await m.delete(AdminSession, { id: principal.sessionId });
      await this.audit.record(
        {
          actor: `admin:${principal.username}`,
          action: principal.tokenId ? 'admin.token_revoked' : 'admin.logout',
          target: principal.sessionId,
        },
        m,
      );
    });
  }

  /** Stamps the session after checking the password (and TOTP when enrolled); API tokens cannot. */
  async reauthenticate(principal: AdminPrincipal, dto: ReauthDto, client: ClientInfo): Promise<ReauthResponseDto> {
    if (principal.tokenId) {
      throw new AppError(ErrorCode.FORBIDDEN, 'API tokens cannot re-authenticate; sign in with a password');
    }
    const admin = await this.checkOwnPassword(principal, dto.password, client);
    if (admin.totpEnabledAt) {
      if (!dto.totp) throw new AppError(ErrorCode.MFA_REQUIRED, 'This admin uses TOTP: send totp with the password');
      if (!(await this.mfa.consumeTotp(admin, dto.totp))) {
        throw new AppError(ErrorCode.MFA_CODE_INVALID, 'totp is not a current, unused TOTP code');
      }
    }
    const now = new Date();
    await this.sessions.update({ id: principal.sessionId }, { reauthAt: now, lastUsedAt: now });
    await this.audit.record({ actor: `admin:${admin.username}`, action: 'admin.reauth', target: principal.sessionId });
    return { validUntil: new Date(now.getTime() + REAUTH_WINDOW_MS).toISOString() };
  }

  /** Verifies the caller's own password under the login limits (a stolen session cannot guess it freely). */
  private async checkOwnPassword(principal: AdminPrincipal, password: string, client: ClientInfo): Promise<Admin> {
    const attempt = this.limiter.reserve(client.ip, principal.username);
    const admin = await this.admins.findOneBy({ id: principal.id });
    if (!admin || !(await verifyPassword(admin.passwordHash, password))) {
      attempt.fail();
      await this.loginFailed(principal.username, client, 'password_confirmation');
      throw new AppError(ErrorCode.PASSWORD_INCORRECT, 'The password is not correct');
    }
    attempt.succeed();
    return admin;
  }

  /** Changes the caller's password and ends every other session of that admin. */
  async changePassword(
    principal: AdminPrincipal,
    currentPassword: string,
    newPassword: string,
    client: ClientInfo,
  ): Promise<{ endedSessions: number }> {
    checkPassword(newPassword);
    const admin = await this.checkOwnPassword(principal, currentPassword, client);
    const passwordHash = await hashPassword(newPassword);
    return this.admins.manager.transaction(async (m) => {
      await m.update(Admin, { id: admin.id }, { passwordHash });
      const ended = await m
        .createQueryBuilder()
        .delete()
        .from(AdminSession)
        .where('admin_id = :id AND kind = :kind AND id <> :current', {
          id: admin.id,
          kind: 'session',
          current: principal.sessionId,
        })
        .execute();
      await this.audit.record(
        {
          actor: `admin:${admin.username}`,
          action: 'admin.password_changed',
          target: admin.username,
          details: { endedSessions: ended.affected ?? 0 },
        },
        m,
      );
      return { endedSessions: ended.affected ?? 0 };
    });
  }

  async listSessions(principal: AdminPrincipal, all: boolean): Promise<SessionResponseDto[]> {
    if (all && principal.role !== AdminRole.OWNER) {
      throw new AppError(ErrorCode.FORBIDDEN, 'Only owners may list every admin’s sessions (all=true)');
    }
    const rows = await this.sessions.find({
      where: all ? { kind: 'session' } : { kind: 'session', adminId: principal.id },
      relations: { admin: true },
      order: { createdAt: 'DESC' },
    });
    const settings = await this.settings.get();
    const now = Date.now();
    return rows
      .map((row) => ({ row, expiresAt: this.sessionExpiry(row, settings) }))
      .filter(({ expiresAt }) => expiresAt.getTime() > now)
      .map(({ row, expiresAt }) => ({
        id: row.id,
        username: row.admin?.username ?? '',
        createdAt: row.createdAt.toISOString(),
        lastUsedAt: row.lastUsedAt.toISOString(),
        expiresAt: expiresAt.toISOString(),
        ip: row.ip,
        userAgent: row.userAgent,
        current: row.id === principal.sessionId,
      }));
  }

  /** Ends one session: the caller's own, or any admin's for an owner. */
  async endSession(principal: AdminPrincipal, id: string): Promise<void> {
    await this.deleteCredential(principal, id, 'session');
  }

  async createToken(principal: AdminPrincipal, dto: CreateApiTokenDto): Promise<CreatedApiTokenResponseDto> {
    if (!roleWithin(dto.role, principal.role)) {
      throw new AppError(ErrorCode.ROLE_TOO_HIGH, `role ${dto.role} is higher than your own role (${principal.role})`, {
        field: 'role',
      });
    }
    const name = dto.name.trim();
    if (!name) throw new AppError(ErrorCode.VALIDATION_FAILED, 'name must not be blank', { field: 'name' });
    const token = newBearer('token');
    const now = new Date();
    return this.sessions.manager.transaction(async (m) => {
      const row = await m.save(
        m.create(AdminSession, {
          adminId: principal.id,
          kind: 'token',
          tokenHash: hashBearer(token),
          name,
          role: dto.role,
          expiresAt: new Date(now.getTime() + dto.expiresInDays * 86400_000),
          lastUsedAt: now,
        }),
      );
      await this.audit.record(
        {
          actor: `admin:${principal.username}`,
          action: 'admin.token_created',
          target: row.id,
          after: { name, role: dto.role, expiresAt: row.expiresAt?.toISOString() },
        },
        m,
      );
      return { ...this.tokenDto(row, principal.username), token };
    });
  }

  async listTokens(principal: AdminPrincipal): Promise<ApiTokenResponseDto[]> {
    const rows = await this.sessions.find({
      where: { kind: 'token', adminId: principal.id },
      order: { createdAt: 'DESC' },
    });
    return rows
      .filter((r) => (r.expiresAt?.getTime() ?? 0) > Date.now())
      .map((r) => this.tokenDto(r, principal.username));
  }

  /** Revokes one API token: the caller's own, or any admin's for an owner. */
  async revokeToken(principal: AdminPrincipal, id: string): Promise<void> {
    await this.deleteCredential(principal, id, 'token');
  }

  private async deleteCredential(principal: AdminPrincipal, id: string, kind: AdminCredentialKind): Promise<void> {
    const row = await this.sessions.findOne({ where: { id, kind }, relations: { admin: true } });
    if (!row || (row.adminId !== principal.id && principal.role !== AdminRole.OWNER)) {
      throw kind === 'session'
        ? new AppError(ErrorCode.SESSION_NOT_FOUND, `No session ${id}`)
        : new AppError(ErrorCode.API_TOKEN_NOT_FOUND, `No API token ${id}`);
    }
    await this.sessions.manager.transaction(async (m) => {
      await m.delete(AdminSession, { id: row.id });
      await this.audit.record(
        {
          actor: `admin:${principal.username}`,
          action: kind === 'session' ? 'admin.session_ended' : 'admin.token_revoked',
          target: row.id,
          details: { admin: row.admin?.username },
        },
        m,
      );
    });
  }

  private tokenDto(row: AdminSession, username: string): ApiTokenResponseDto {
    return {
      id: row.id,
      name: row.name ?? '',
      username,
      role: row.role ?? AdminRole.AUDITOR,
      createdAt: row.createdAt.toISOString(),
      lastUsedAt: row.lastUsedAt.toISOString(),
      expiresAt: (row.expiresAt ?? new Date(0)).toISOString(),
    };
  }
}
