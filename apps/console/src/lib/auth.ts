import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { serverApi } from './server-api';

export { safeNext } from './next-path';
import { type ConsoleSession, findSession, SESSION_COOKIE } from './session';

/** Whether the server still waits for its first setup (then every page leads to the wizard). */
export async function setupRequired(): Promise<boolean> {
  const { data } = await (await serverApi()).GET('/api/info');
  return data?.setupRequired ?? false;
}

export async function currentSession(): Promise<ConsoleSession | undefined> {
  return findSession((await cookies()).get(SESSION_COOKIE)?.value);
}

/** The signed-in admin's session, or a redirect to sign-in that comes back to `here`. */
export async function requireSession(here: string): Promise<ConsoleSession> {
  const session = await currentSession();
  if (session) return session;
  if (await setupRequired()) redirect('/setup');
  redirect(`/login?next=${encodeURIComponent(here)}`);
}

/** `path?query` of a page from its search params, for `?next=`. */
export function pageUrl(path: string, params: Record<string, string | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'string') q.set(k, v);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
