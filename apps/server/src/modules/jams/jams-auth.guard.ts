import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppError, ErrorCode } from '../../common/app-error';
import { bearerToken } from '../auth/admin.guard';
import { TokenService } from '../auth/token.service';
import { DevicesRepository } from '../users/devices.repository';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';

export interface JamsPrincipal {
  user: User;
  scope: 'USER' | 'DEVICE';
  /** Set for DEVICE tokens. */
  deviceId: string | null;
}

type JamsRequest = Request & { jams?: JamsPrincipal };

const SCOPE_KEY = 'jams:scope';
/** USER tokens also satisfy DEVICE-scoped calls (the client's scope order is None < Device < User). */
export const RequireScope = (scope: 'USER' | 'DEVICE') => SetMetadata(SCOPE_KEY, scope);

/**
 * Bearer tokens from POST /api/login. A 401 makes Jami clients log in again; a DEVICE token stops working
 * the moment its device is revoked.
 */
@Injectable()
export class JamsAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly reflector: Reflector,
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<JamsRequest>();
    const required = this.reflector.get<'USER' | 'DEVICE' | undefined>(SCOPE_KEY, ctx.getHandler()) ?? 'DEVICE';
    const raw = bearerToken(req);
    const token = raw ? await this.tokens.resolve(raw) : null;
    if (!token || (token.scope !== 'USER' && token.scope !== 'DEVICE')) {
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'A bearer token from POST /api/login is required');
    }
    if (required === 'USER' && token.scope !== 'USER') {
      throw new AppError(ErrorCode.SCOPE_INSUFFICIENT, 'This call needs a USER token (Basic login)');
    }
    const user = await this.users.byId(token.subjectId);
    if (!user || user.status !== 'active') throw new AppError(ErrorCode.UNAUTHENTICATED, 'The user is not active');
    if (token.deviceId) {
      const device = await this.devices.byDeviceId(token.deviceId);
      if (!device || device.revokedAt) throw new AppError(ErrorCode.DEVICE_REVOKED, 'This device has been revoked');
    }
    req.jams = { user, scope: token.scope, deviceId: token.deviceId };
    return true;
  }
}

export const CurrentJams = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<JamsRequest>().jams as JamsPrincipal,
);
