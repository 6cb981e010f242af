import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import { Admin } from './admin.entity';
import { TokenResponseDto } from './auth.dto';
import { LoginRateLimiter } from './login-rate-limiter';
import { hashPassword, verifyPassword } from './password-hasher';
import { TokenService } from './token.service';

export interface AdminPrincipal {
  id: string;
  username: string;
}

@Injectable()
export class AdminAuthService {
  private readonly limiter: LoginRateLimiter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(Admin) private readonly admins: Repository<Admin>,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
  ) {
    this.limiter = new LoginRateLimiter(config.auth.loginMaxFailures, config.auth.loginWindowSeconds);
  }

  async createAdmin(username: string, password: string, manager: EntityManager): Promise<Admin> {
    if (password.length < 8) {
      throw new AppError(ErrorCode.PASSWORD_TOO_SHORT, 'The admin password must be at least 8 characters');
    }
    return manager.save(manager.create(Admin, { username, passwordHash: await hashPassword(password) }));
  }

  async login(username: string, password: string, ip: string): Promise<TokenResponseDto> {
    this.limiter.check(ip, username);
    const admin = await this.admins.findOne({ where: { username } });
    const ok = await verifyPassword(admin?.passwordHash, password);
    if (!admin || !ok) {
      this.limiter.fail(ip, username);
      await this.audit.record({ actor: `ip:${ip}`, action: 'admin.login_failed', target: username.slice(0, 64) });
      throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username or password');
    }
    this.limiter.succeed(ip, username);
    await this.admins.update({ id: admin.id }, { lastLoginAt: new Date() });
    return this.issueToken(admin);
  }

  async issueToken(admin: Admin, manager?: EntityManager): Promise<TokenResponseDto> {
    const token = await this.tokens.issue('ADMIN', admin.id, this.config.auth.tokenTtlSeconds, { manager });
    return { ...token, scope: 'ADMIN' };
  }

  async authenticate(bearer: string | undefined): Promise<AdminPrincipal> {
    const token = bearer ? await this.tokens.resolve(bearer) : null;
    if (!token || token.scope !== 'ADMIN') {
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'A valid admin bearer token is required');
    }
    const admin = await this.admins.findOne({ where: { id: token.subjectId } });
    if (!admin) throw new AppError(ErrorCode.UNAUTHENTICATED, 'A valid admin bearer token is required');
    return { id: admin.id, username: admin.username };
  }
}
