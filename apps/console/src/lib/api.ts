'use client';

import { createEnclaveClient, type EnclaveClient, type paths } from '@enclave/api-client';
import type { Client } from 'openapi-fetch';
import createQueryHooks from 'openapi-react-query';

/** Reads a cookie the console's server set for scripts (the CSRF token). */
export function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  const prefix = `${name}=`;
  return document.cookie
    .split('; ')
    .find((c) => c.startsWith(prefix))
    ?.slice(prefix.length);
}

/** Where an ended session sends the admin: sign-in, then back to this page. */
export function signInAgain(): void {
  const here = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`/login?expired=1&next=${encodeURIComponent(here)}`);
}

/**
 * The browser's API client: the generated client pointed at the same-origin proxy (`/console-api`), which
 * adds the admin token server-side. State-changing calls carry the CSRF token; a 401 means the session ended.
 */
export const apiClient = createEnclaveClient({ baseUrl: '/console-api' });
apiClient.use({
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      request.headers.set('x-csrf-token', readCookie('enclave_csrf') ?? '');
    }
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) signInAgain();
    return response;
  },
});

/** The server's error body (`{statusCode, code, message, details}`), as the hooks throw it. */
export interface ApiError {
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { problems?: string[] } & Record<string, unknown>;
}

/**
 * The spec's operations with the server's error body as their default response. Every admin route answers
 * errors in that one shape (the global filter), but operations that do not document it yet would type
 * their errors as `never`; once they all do, this changes nothing.
 */
type WithErrorBody<P> = {
  [K in keyof P]: {
    [M in keyof P[K]]: P[K][M] extends { responses: infer R }
      ? Omit<P[K][M], 'responses'> & {
          responses: R & {
            default: { headers: { [name: string]: unknown }; content: { 'application/json': ApiError } };
          };
        }
      : P[K][M];
  };
};
const typedClient: EnclaveClient = apiClient;

/** Typed TanStack Query hooks over the generated client: `$api.useQuery('get', '/api/admin/users', …)`. */
export const $api = createQueryHooks(typedClient as unknown as Client<WithErrorBody<paths>>);

export function errorMessage(err: unknown): string {
  const e = err as ApiError | undefined;
  if (e?.message) return e.code ? `${e.message} (${e.code})` : e.message;
  return err instanceof Error ? err.message : 'Something went wrong';
}
