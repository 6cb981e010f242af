'use server';

import type { Schemas } from '@enclave/api-client';
import { cookies } from 'next/headers';
import { serverApi } from './server-api';
import {
  cookieOptions,
  createSession,
  CSRF_COOKIE,
  csrfMatches,
  destroySession,
  findSession,
  SESSION_COOKIE,
} from './session';

/**
 * Sign-in, setup and sign-out run as server actions: Next refuses an action whose Origin is not this host,
 * and the admin token they obtain never leaves the server (the browser gets the session cookies only).
 */
export interface ActionError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}
export type ActionResult = { ok: true } | { ok: false; error: ActionError };

function asError(status: number, body: unknown): ActionError {
  const b = (body ?? {}) as Partial<ActionError>;
  return {
    status,
    code: typeof b.code === 'string' ? b.code : 'UNKNOWN',
    message: typeof b.message === 'string' ? b.message : `The server answered ${status}`,
    details: b.details,
  };
}

async function startSession(username: string, token: string, expiresIn: number): Promise<void> {
  const { id, session } = createSession(username, token, expiresIn);
  const jar = await cookies();
  jar.set(SESSION_COOKIE, id, cookieOptions(expiresIn, true));
  // Readable by the console's scripts, which echo it in x-csrf-token (double submit, checked server-side).
  jar.set(CSRF_COOKIE, session.csrf, cookieOptions(expiresIn, false));
}

export async function signIn(input: {
  username: string;
  password: string;
  totp?: string;
  recoveryCode?: string;
}): Promise<ActionResult> {
  const body: Schemas['AdminLoginDto'] & { totp?: string; recoveryCode?: string } = {
    username: input.username,
    password: input.password,
  };
  if (input.totp) body.totp = input.totp;
  if (input.recoveryCode) body.recoveryCode = input.recoveryCode;
  const { data, error, response } = await (await serverApi()).POST('/api/admin/login', { body });
  if (!data) return { ok: false, error: asError(response.status, error) };
  await startSession(input.username.toLowerCase(), data.access_token, data.expires_in);
  return { ok: true };
}

export async function completeSetup(input: Schemas['SetupDto'] & { setupCode?: string }): Promise<ActionResult> {
  const { setupCode, ...rest } = input;
  const body: Schemas['SetupDto'] & { setupCode?: string } = setupCode ? { ...rest, setupCode } : rest;
  const { data, error, response } = await (await serverApi()).POST('/api/setup', { body });
  if (!data) return { ok: false, error: asError(response.status, error) };
  await startSession(input.admin.username.toLowerCase(), data.access_token, data.expires_in);
  return { ok: true };
}

export async function signOut(csrf: string): Promise<void> {
  const jar = await cookies();
  const id = jar.get(SESSION_COOKIE)?.value;
  const session = findSession(id, false);
  if (session && csrfMatches(session, csrf)) destroySession(id);
  jar.delete(SESSION_COOKIE);
  jar.delete(CSRF_COOKIE);
}
