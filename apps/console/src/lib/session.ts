import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { consoleRuntime } from './runtime';

/**
 * Console sessions. The browser holds only a random session id (cookie `enclave_session`: HttpOnly, Secure,
 * SameSite=Strict); the admin bearer token stays in this process, in a map keyed by the SHA-256 of that id.
 * A restart of the server signs every admin out. Each session carries its own CSRF token, which the browser
 * reads from the `enclave_csrf` cookie and echoes in the `x-csrf-token` header of every state-changing call.
 */
export const SESSION_COOKIE = 'enclave_session';
export const CSRF_COOKIE = 'enclave_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface ConsoleSession {
  username: string;
  token: string;
  csrf: string;
  lastSeen: number;
  /** When the admin token expires (ms since epoch). */
  expiresAt: number;
}

interface Store {
  sessions: Map<string, ConsoleSession>;
}

// One store per process: route handlers and server components are separate bundles, so module state
// would not be shared; globalThis is.
function store(): Store {
  const g = globalThis as { __enclaveConsoleSessions?: Store };
  g.__enclaveConsoleSessions ??= { sessions: new Map() };
  return g.__enclaveConsoleSessions;
}

const keyOf = (id: string) => createHash('sha256').update(id).digest('base64url');

function sweep(now: number): void {
  const idleMs = consoleRuntime().idleTimeoutSeconds * 1000;
  for (const [key, s] of store().sessions) {
    if (now - s.lastSeen > idleMs || now >= s.expiresAt) store().sessions.delete(key);
  }
}

export function createSession(username: string, token: string, expiresInSeconds: number) {
  const now = Date.now();
  sweep(now);
  const id = randomBytes(32).toString('base64url');
  const session: ConsoleSession = {
    username,
    token,
    csrf: randomBytes(32).toString('base64url'),
    lastSeen: now,
    expiresAt: now + expiresInSeconds * 1000,
  };
  store().sessions.set(keyOf(id), session);
  return { id, session };
}

/** The live session for a cookie value, refreshed (idle clock restarted) when `touch` is set. */
export function findSession(id: string | undefined, touch = true): ConsoleSession | undefined {
  if (!id) return undefined;
  const key = keyOf(id);
  const session = store().sessions.get(key);
  if (!session) return undefined;
  const now = Date.now();
  if (now - session.lastSeen > consoleRuntime().idleTimeoutSeconds * 1000 || now >= session.expiresAt) {
    store().sessions.delete(key);
    return undefined;
  }
  if (touch) session.lastSeen = now;
  return session;
}

export function destroySession(id: string | undefined): void {
  if (id) store().sessions.delete(keyOf(id));
}

export function csrfMatches(session: ConsoleSession, header: string | null): boolean {
  if (!header) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const cookieOptions = (maxAgeSeconds: number, httpOnly: boolean) =>
  ({ httpOnly, secure: true, sameSite: 'strict', path: '/', maxAge: maxAgeSeconds }) as const;
