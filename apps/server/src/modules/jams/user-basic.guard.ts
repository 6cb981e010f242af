import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppError, ErrorCode } from '../../common/app-error';
import { clientAddress } from '../../common/client-address';
import { requestClientCertificate } from '../../common/proxy-client-cert';
import { UserAuthService } from '../directory/user-auth.service';
import type { User } from '../users/user.entity';

type BasicRequest = Request & { basicUser?: User | null };

interface BasicOptions {
  /** Without credentials the handler runs with a null user (mTLS may authenticate instead). */
  optional: boolean;
  /** The code bad credentials get (INVALID_CREDENTIALS, or CREDENTIALS_REJECTED where a 401 would wipe a client). */
  rejectedAs: ErrorCode;
  /** The message when credentials are required and missing. */
  missing: string;
}

const BASIC_KEY = 'jams:basic';

/** Configures UserBasicGuard for a route. */
export const BasicCredentials = (opts: Partial<BasicOptions>) => SetMetadata(BASIC_KEY, opts);

/**
 * HTTP Basic authentication of users (local password or directory bind) for the JAMS routes, before the
 * handler runs: the service receives the user, never the Express objects. Suspended users are refused
 * (USER_SUSPENDED), so are directory outages (DIRECTORY_UNAVAILABLE) and rate-limited attempts.
 */
@Injectable()
export class UserBasicGuard implements CanActivate {
  constructor(
    private readonly userAuth: UserAuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<BasicRequest>();
    const res = http.getResponse<Response>();
    const opts: BasicOptions = {
      optional: false,
      rejectedAs: ErrorCode.INVALID_CREDENTIALS,
      missing: 'HTTP Basic credentials are required',
      ...(this.reflector.get<Partial<BasicOptions> | undefined>(BASIC_KEY, ctx.getHandler()) ?? {}),
    };
    let user: User | null;
    try {
      user = await this.userAuth.basic.authenticate(req, res);
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.INVALID_CREDENTIALS && opts.rejectedAs !== err.code) {
        throw new AppError(opts.rejectedAs, err.message);
      }
      throw err;
    }
    if (!user && !opts.optional) throw new AppError(ErrorCode.UNAUTHENTICATED, opts.missing);
    req.basicUser = user;
    return true;
  }
}

/** The user UserBasicGuard authenticated (null on optional routes without credentials). */
export const BasicUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<BasicRequest>().basicUser ?? null,
);

/** The TLS client certificate the connection presented, if any. */
export const ClientCertificate = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  requestClientCertificate(ctx.switchToHttp().getRequest<Request>()),
);

/** The connection's peer address (rate limits, audit actors). */
export const ClientAddress = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  clientAddress(ctx.switchToHttp().getRequest<Request>()),
);
