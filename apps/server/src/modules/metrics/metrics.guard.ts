import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AdminAuthService } from '../auth/admin-auth.service';
import { bearerToken } from '../auth/admin.guard';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Compares in constant time (over the SHA-256 of both, so the lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** GET /metrics: `Authorization: Bearer <ENCLAVE_METRICS_TOKEN>` or the bearer token of an admin of any role. */
@Injectable()
export class MetricsGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly admins: AdminAuthService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const token = bearerToken(ctx.switchToHttp().getRequest<Request>());
    if (!token) {
      throw new AppError(
        ErrorCode.UNAUTHENTICATED,
        'A bearer token is required: ENCLAVE_METRICS_TOKEN or an admin token',
      );
    }
    const metricsToken = this.config.metrics.token;
    if (metricsToken !== undefined && sameSecret(token, metricsToken)) return true;
    await this.admins.authenticate(token);
    return true;
  }
}
