import type { INestApplication } from '@nestjs/common';
import express from 'express';
import { AppError, ErrorCode } from './app-error';

/** Media types the server parses: JSON everywhere, DER OCSP requests for the OCSP responder, multipart uploads. */
export const JSON_TYPES = ['application/json', 'application/*+json'];
export const RAW_TYPES = ['application/ocsp-request'];
/** Parsed by the route itself (multer's FileInterceptor: the branding logo upload); other routes see no body. */
export const MULTIPART_TYPES = ['multipart/form-data'];
/**
 * Routes that read a body of any media type themselves: OpenDHT's REST proxy takes a JSON value whatever the
 * Content-Type says (curl -d sends it as a form), as `dhtnode --proxyserver` does.
 */
export const SELF_PARSING_PREFIXES = ['/dht-proxy/'];

const BODY_ERROR = Symbol('enclave:body-error');
type BodyRequest = express.Request & { [BODY_ERROR]?: AppError };

/** The body-parsing error of this request, if any (raised by RequestInputGuard once routing is done). */
export function bodyError(req: express.Request): AppError | undefined {
  return (req as BodyRequest)[BODY_ERROR];
}

/** How deep a JSON body may nest: no DTO needs more, and deeper ones overflow the validator's recursion. */
export const MAX_BODY_DEPTH = 32;

/** True when the value nests deeper than `max` (iterative: the check itself cannot overflow the stack). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (!v || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

function hasBody(req: express.Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) !== 0);
}

/** body-parser errors as domain errors; anything else (a fault of ours) stays as it is and answers 500. */
function toAppError(err: { type?: string; status?: number; message?: string }): AppError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new AppError(ErrorCode.BODY_INVALID, 'Request body is not valid JSON');
    case 'entity.too.large':
      return new AppError(ErrorCode.BODY_TOO_LARGE, 'Request body is too large');
    case 'encoding.unsupported':
      return new AppError(ErrorCode.MEDIA_TYPE_UNSUPPORTED, `${err.message}: send the body without Content-Encoding`);
    case 'charset.unsupported':
      return new AppError(ErrorCode.MEDIA_TYPE_UNSUPPORTED, `${err.message}: send UTF-8`);
    default:
      if (err.status !== undefined && err.status >= 400 && err.status < 500) {
        return new AppError(ErrorCode.BODY_INVALID, 'Request body could not be read');
      }
      return undefined;
  }
}

/**
 * Body parsing for the whole app. Parsing failures (malformed JSON, unknown Content-Encoding, a body in a
 * media type no route accepts) are kept on the request rather than answered here: RequestInputGuard raises
 * them after routing, so they are logged and answered like any other error, with the request id.
 */
export function useBodyParsers(app: INestApplication): void {
  app.use(express.json({ limit: '256kb', type: JSON_TYPES }));
  app.use(express.raw({ type: RAW_TYPES, limit: '64kb' }));
  app.use((err: unknown, req: express.Request, _res: express.Response, next: express.NextFunction) => {
    const appError = err && typeof err === 'object' ? toAppError(err) : undefined;
    if (!appError) return next(err);
    (req as BodyRequest)[BODY_ERROR] = appError;
    req.body = undefined;
    next();
  });
  app.use((req: express.Request, _res: express.Response, next: express.NextFunction) => {
    if ((req as BodyRequest)[BODY_ERROR]) return next();
    if (nestsDeeperThan(req.body, MAX_BODY_DEPTH)) {
      (req as BodyRequest)[BODY_ERROR] = new AppError(
        ErrorCode.BODY_INVALID,
        `Request body nests deeper than ${MAX_BODY_DEPTH} levels`,
      );
      req.body = undefined;
    } else if (
      hasBody(req) &&
      !req.is([...JSON_TYPES, ...RAW_TYPES, ...MULTIPART_TYPES]) &&
      !SELF_PARSING_PREFIXES.some((prefix) => req.path.startsWith(prefix))
    ) {
      const given = req.headers['content-type'] ?? 'none';
      (req as BodyRequest)[BODY_ERROR] = new AppError(
        ErrorCode.MEDIA_TYPE_UNSUPPORTED,
        `Content-Type ${given.slice(0, 100)} is not accepted: send application/json`,
      );
    }
    next();
  });
}
