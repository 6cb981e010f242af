import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppError, ErrorCode } from './app-error';
import { bodyError } from './body-parsing';

const MAX_DEPTH = 32;

/** Paths (`a.b[2].c`) of the strings, and object keys, that contain a NUL character. */
export function nulPaths(value: unknown, path = '', depth = 0, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push(path || '(value)');
  } else if (Array.isArray(value)) {
    if (depth < MAX_DEPTH) value.forEach((v, i) => nulPaths(v, `${path}[${i}]`, depth + 1, out));
  } else if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [key, v] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) out.push(at.split('\u0000').join('\\0'));
      else if (depth < MAX_DEPTH) nulPaths(v, at, depth + 1, out);
    }
  }
  return out;
}

/**
 * Global guard, the first thing to run on every route once it is matched: raises the request's body-parsing
 * error (malformed JSON, unsupported media type or encoding), then refuses a NUL character anywhere in the
 * path parameters, the query or the body (PostgreSQL cannot store it, and no name or value needs it), with a
 * 400 VALIDATION_FAILED naming each field.
 */
@Injectable()
export class RequestInputGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    const parseError = bodyError(req);
    if (parseError) throw parseError;
    const fields = [
      ...nulPaths(req.params ?? {}).map((f) => ({ in: 'path', field: f })),
      ...nulPaths(req.query ?? {}).map((f) => ({ in: 'query', field: f })),
      ...nulPaths(req.body ?? {}).map((f) => ({ in: 'body', field: f })),
    ];
    if (fields.length) {
      const problems = fields.map((f) => `${f.field} (${f.in}) must not contain the NUL character`);
      throw new AppError(ErrorCode.VALIDATION_FAILED, problems.join('; '), { problems, fields });
    }
    return true;
  }
}
