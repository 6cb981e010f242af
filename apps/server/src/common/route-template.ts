import type { Request } from 'express';

/**
 * The matched route's template (`/api/admin/users/:username`), or `unmatched`: what logs and metric labels
 * name a request by, never the raw path with its usernames and ids.
 */
export function routeTemplate(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : 'unmatched';
}
