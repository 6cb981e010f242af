import type { Request } from 'express';

/** The peer address of the request's connection, for rate limits and audit actors. */
export const clientAddress = (req: Request): string => req.socket.remoteAddress ?? 'unknown';
