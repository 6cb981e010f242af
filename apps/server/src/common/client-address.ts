import type { Request } from 'express';
import { consoleForwardedAddress } from '../console';

/**
 * The peer address of the request's connection, for rate limits and audit actors; for a call from the
 * admin console's server code (loopback, per-process secret), the browser's address it forwards.
 */
export const clientAddress = (req: Request): string =>
  consoleForwardedAddress(req) ?? req.socket.remoteAddress ?? 'unknown';
