import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { LoginRateLimiter } from '../auth/login-rate-limiter';
import { verifyPassword } from '../auth/password-hasher';
import { User } from './user.entity';

/**
 * Authenticates users (not admins) with their password: Jami enrollment and the Basic /api/login. Failed
 * attempts are rate-limited per client address and username.
 */
@Injectable()
export class UserAuthService {
  private readonly limiter: LoginRateLimiter;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly audit: AuditService,
  ) {
    this.limiter = new LoginRateLimiter(config.auth.loginMaxFailures, config.auth.loginWindowSeconds);
  }

  /** The user, or INVALID_CREDENTIALS / USER_SUSPENDED / TOO_MANY_ATTEMPTS. */
  async authenticate(rawUsername: string, password: string, ip: string): Promise<User> {
    const username = rawUsername.trim().toLowerCase();
    this.limiter.check(ip, username);
    const user = username.length <= 64 ? await this.users.findOne({ where: { username } }) : null;
    const ok = await verifyPassword(user?.passwordHash, password);
    if (!user || !ok) {
      this.limiter.fail(ip, username);
      await this.audit.record({ actor: `ip:${ip}`, action: 'user.login_failed', target: username.slice(0, 64) });
      throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password');
    }
    this.limiter.succeed(ip, username);
    if (user.status !== 'active') throw new AppError(ErrorCode.USER_SUSPENDED, `User "${username}" is suspended`);
    return user;
  }
}
