import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppError, ErrorCode } from '../../common/app-error';
import { AdminAuthService, AdminAuthentication, AdminPrincipal, REAUTH_WINDOW_MS } from './admin-auth.service';
import { AdminRole, MFA_SETUP_ALLOWED_KEY, RECENT_AUTH_KEY, ROLES_KEY } from './roles';

export type AdminRequest = Request & { admin?: AdminPrincipal; adminAuth?: AdminAuthentication };

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Admin API guard: `Authorization: Bearer <session or API token>`, then the route's role rule
 * (`Roles(...)` on the handler, else on the controller). A route without a rule is refused for everyone
 * (fail closed), so a forgotten decorator cannot open a route. RequireRecentAuth() routes also need a
 * password (+ TOTP) confirmation within 5 minutes, which API tokens cannot give.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly auth: AdminAuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AdminRequest>();
    const auth = await this.auth.authenticate(bearerToken(req));
    req.admin = auth.principal;
    req.adminAuth = auth;
    const targets = [ctx.getHandler(), ctx.getClass()];
    const roles = this.reflector.getAllAndOverride<AdminRole[] | undefined>(ROLES_KEY, targets);
    if (!roles || roles.length === 0) {
      throw new AppError(ErrorCode.FORBIDDEN, 'This route has no role rule and is refused to every admin');
    }
    if (auth.mfaSetupRequired && !this.reflector.getAllAndOverride<boolean>(MFA_SETUP_ALLOWED_KEY, targets)) {
      throw new AppError(
        ErrorCode.MFA_SETUP_REQUIRED,
        'MFA is required: enrol TOTP (POST /api/admin/me/mfa/totp, then …/confirm) before using the admin API',
      );
    }
    if (!roles.includes(auth.principal.role)) {
      throw new AppError(ErrorCode.FORBIDDEN, `The ${auth.principal.role} role may not call this route`, {
        role: auth.principal.role,
        allowed: roles,
      });
    }
    if (this.reflector.getAllAndOverride<boolean>(RECENT_AUTH_KEY, targets)) {
      if (auth.principal.tokenId) {
        throw new AppError(
          ErrorCode.REAUTH_REQUIRED,
          'This route needs a recent password confirmation, which an API token cannot give; use a session',
        );
      }
      if (!auth.reauthAt || Date.now() - auth.reauthAt.getTime() > REAUTH_WINDOW_MS) {
        throw new AppError(
          ErrorCode.REAUTH_REQUIRED,
          'Confirm your password (and TOTP code) with POST /api/admin/me/reauth, then retry within 5 minutes',
        );
      }
    }
    return true;
  }
}

export const CurrentAdmin = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AdminRequest>().admin as AdminPrincipal,
);

/** The principal with its session state (MFA setup, re-authentication), for /me routes. */
export const CurrentAuthentication = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AdminRequest>().adminAuth as AdminAuthentication,
);
