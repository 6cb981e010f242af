import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AppError, ErrorCode } from '../../common/app-error';

/** Query parameter names that carry credentials in other APIs; bearer tokens never travel in a URL here. */
const TOKEN_PARAM_NAMES = new Set([
  'access_token',
  'token',
  'api_key',
  'apikey',
  'api-key',
  'bearer',
  'auth',
  'authorization',
  'jwt',
  'id_token',
  'refresh_token',
  'session_id',
  'sessionid',
  'password',
]);

/** Enclave admin bearers (sessions `encs_…`, API tokens `enct_…`) and "Bearer …" values. */
const BEARER_VALUE = /\benc[st]_[A-Za-z0-9_-]{16,}|^\s*bearer\s+\S/i;

const isTokenParam = (name: string, value: string) =>
  (TOKEN_PARAM_NAMES.has(name.toLowerCase()) && value !== '') || BEARER_VALUE.test(value);

function queryPairs(url: string): [string, string][] | null {
  const q = url.indexOf('?');
  if (q < 0) return null;
  try {
    return [...new URLSearchParams(url.slice(q + 1)).entries()];
  } catch {
    return null;
  }
}

/** Names of the query parameters that look like credentials. */
export function tokenParams(url: string): string[] {
  return (queryPairs(url) ?? []).filter(([k, v]) => isTokenParam(k, v)).map(([k]) => k);
}

/** The URL with the values of credential-looking query parameters replaced, for logs. */
export function redactUrl(url: string): string {
  const pairs = queryPairs(url);
  if (!pairs || !pairs.some(([k, v]) => isTokenParam(k, v))) return url;
  const query = pairs
    .map(([k, v]) => `${encodeURIComponent(k)}=${isTokenParam(k, v) ? '[redacted]' : encodeURIComponent(v)}`)
    .join('&');
  return `${url.slice(0, url.indexOf('?'))}?${query}`;
}

/**
 * Global middleware: a request carrying a token in its query string is refused with 400 TOKEN_IN_QUERY
 * on every route (the token is treated as leaked: URLs end up in proxy logs, browser history, Referer).
 */
export function refuseTokensInQuery(req: Request, _res: Response, next: NextFunction): void {
  const names = tokenParams(req.url);
  if (names.length === 0) return next();
  next(
    new AppError(
      ErrorCode.TOKEN_IN_QUERY,
      `Credentials are not accepted in the query string (${names.join(', ')}); send "Authorization: Bearer <token>"`,
      { parameters: names },
    ),
  );
}

/** The same refusal as a Nest middleware, applied to every route after the request logger (AuthModule). */
@Injectable()
export class QueryTokenMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    refuseTokensInQuery(req, res, next);
  }
}

/** pino request serializer: the logged url and query never carry a credential-looking value. */
export function redactRequestForLog<T extends { url?: string; query?: unknown }>(req: T): T {
  if (typeof req.url === 'string') req.url = redactUrl(req.url);
  if (req.query && typeof req.query === 'object') {
    req.query = Object.fromEntries(
      Object.entries(req.query as Record<string, unknown>).map(([k, v]) => [
        k,
        typeof v === 'string' && isTokenParam(k, v) ? '[redacted]' : typeof v === 'string' ? v : '[object]',
      ]),
    );
  }
  return req;
}
