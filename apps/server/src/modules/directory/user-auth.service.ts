import { clientAddress } from '../../common/client-address';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { LoginRateLimiter } from '../auth/login-rate-limiter';
import { verifyPassword } from '../auth/password-hasher';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { RoomsService } from '../rooms/rooms.service';
import { BasicAuthenticator } from './basic-auth';
import { DirectoryService } from './directory.service';

/**
 * Authenticates users (not admins) with their password, for Jami enrollment and the Basic /api/login:
 * local users against their argon2id hash, directory users by binding as them (a directory user unknown
 * so far is created on first login). Failed attempts are rate-limited per client address and username; a
 * directory outage is DIRECTORY_UNAVAILABLE, never a false "wrong password".
 */
@Injectable()
export class UserAuthService {
  private readonly limiter: LoginRateLimiter;
  /** Basic credentials through passport, verified by authenticate(). */
  readonly basic = new BasicAuthenticator((username, password, req) =>
    this.authenticate(username, password, clientAddress(req)),
  );

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
    private readonly directory: DirectoryService,
    private readonly rooms: RoomsService,
  ) {
    this.limiter = new LoginRateLimiter(config.auth.loginMaxFailures, config.auth.loginWindowSeconds);
  }

  /** The user, or INVALID_CREDENTIALS / USER_SUSPENDED / TOO_MANY_ATTEMPTS. */
  async authenticate(rawUsername: string, password: string, ip: string): Promise<User> {
    const username = rawUsername.trim().toLowerCase();
    this.limiter.check(ip, username);
    const local = await this.users.byUsername(username);
    const config = await this.directory.config();
    let user: User | null = null;
    // eslint-disable-next-line no-control-regex -- names with control characters are refused outright
    if (/[\u0000-\u001f\u007f]/.test(username)) {
      // No directory or stored name contains control characters: a plain wrong-credentials answer.
      user = null;
    } else if (local?.kind === 'room') {
      // rooms: a room's host enrolls with its one-time secret; a room never has a password.
      user = await this.rooms.authenticateHost(local, password);
    } else if (config.type === 'local' || local?.source === 'local') {
      user = (await verifyPassword(local?.passwordHash, password)) ? local : null;
    } else {
      try {
        const found = await this.directory.authenticate(config, rawUsername.trim(), password);
        if (found.disabled) {
          this.limiter.succeed(ip, username);
          throw new AppError(ErrorCode.USER_SUSPENDED, `User "${found.username}" is disabled in the directory`);
        }
        const known = await this.users.byExternalId(found.externalId);
        if (known?.status === 'deleted') {
          this.limiter.succeed(ip, username);
          throw new AppError(ErrorCode.USER_SUSPENDED, `User "${found.username}" was deleted`);
        }
        const holder = await this.users.byUsername(found.username.toLowerCase());
        if (holder?.status === 'deleted') {
          throw new AppError(
            ErrorCode.USERNAME_RESERVED,
            `The name "${holder.username}" belongs to a deleted user until an owner releases it`,
          );
        }
        user = await this.directory.upsertUser(config, found);
      } catch (err) {
        if (!(err instanceof AppError && err.code === ErrorCode.INVALID_CREDENTIALS)) throw err;
      }
    }
    if (!user) {
      this.limiter.fail(ip, username);
      await this.audit.record({
        actor: `ip:${ip}`,
        action: 'user.login_failed',
        // eslint-disable-next-line no-control-regex -- PostgreSQL text cannot hold NUL
        target: username.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 64),
      });
      throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password');
    }
    this.limiter.succeed(ip, username);
    if (user.status !== 'active') throw new AppError(ErrorCode.USER_SUSPENDED, `User "${user.username}" is suspended`);
    return user;
  }
}
