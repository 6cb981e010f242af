import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { clientAddress } from './client-address';

/** What code deep below a controller may want to know about the HTTP request it runs for. */
export interface RequestContext {
  /** The id in the `x-request-id` response header and on every log line of the request. */
  requestId: string;
  /** The peer address of the request's connection (see clientAddress). */
  address: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The current HTTP request's context; undefined outside a request (jobs, start-up). */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id, assigned once: a well-formed `x-request-id` from the client, else a random UUID. It is
 * kept in the response's `x-request-id` header, so pino-http's genReqId and the context middleware (whichever
 * runs first) agree on it.
 */
export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const assigned = res.getHeader('x-request-id');
  if (typeof assigned === 'string') return assigned;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/** Runs the rest of every HTTP request inside its RequestContext. */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    storage.run({ requestId: requestIdFor(req, res), address: clientAddress(req) }, next);
  }
}

/** Runs fn inside the given context (for tests and code that starts work on behalf of a request). */
export function runInRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}
