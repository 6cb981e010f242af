import { NextResponse, type NextRequest } from 'next/server';
import { CONSOLE_CLIENT_HEADER, CONSOLE_SECRET_HEADER, consoleRuntime } from '@/lib/runtime';
import { CSRF_HEADER, csrfMatches, destroySession, findSession, SESSION_COOKIE } from '@/lib/session';

/**
 * Same-origin proxy from the browser to the admin API: the session cookie becomes the bearer token here,
 * server-side. Only `/api/admin/**` is reachable. State-changing methods need the request's Origin to be
 * this console and the session's CSRF token in `x-csrf-token`.
 */
export const dynamic = 'force-dynamic';

const refuse = (status: number, code: string, message: string) =>
  NextResponse.json({ statusCode: status, code, message }, { status });

function sameOrigin(req: NextRequest): boolean {
  const origin = req.headers.get('origin');
  const host = req.headers.get('host');
  return !!origin && !!host && origin === `https://${host}`;
}

async function forward(req: NextRequest, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const { path } = await ctx.params;
  const target = path.map((s) => encodeURIComponent(s)).join('/');
  if (!/^api\/admin\//.test(target)) return refuse(404, 'NOT_FOUND', 'Only the admin API is reachable here');
  const sessionId = req.cookies.get(SESSION_COOKIE)?.value;
  const session = findSession(sessionId);
  if (!session) return refuse(401, 'SESSION_EXPIRED', 'Your session has ended; sign in again');
  const changing = !['GET', 'HEAD'].includes(req.method);
  if (changing && (!sameOrigin(req) || !csrfMatches(session, req.headers.get(CSRF_HEADER)))) {
    return refuse(403, 'CSRF_REJECTED', 'The request did not come from this console (CSRF check failed)');
  }
  const runtime = consoleRuntime();
  const upstreamHeaders: Record<string, string> = {
    authorization: `Bearer ${session.token}`,
    accept: 'application/json',
    [CONSOLE_SECRET_HEADER]: runtime.secret,
    [CONSOLE_CLIENT_HEADER]: req.headers.get(CONSOLE_CLIENT_HEADER) ?? 'unknown',
  };
  const contentType = req.headers.get('content-type');
  if (contentType) upstreamHeaders['content-type'] = contentType;
  const body = changing ? await req.arrayBuffer() : undefined;
  const upstream = await fetch(`${runtime.apiUrl}/${target}${req.nextUrl.search}`, {
    method: req.method,
    headers: upstreamHeaders,
    body: body && body.byteLength > 0 ? body : undefined,
    redirect: 'manual',
    cache: 'no-store',
  });
  if (upstream.status === 401) {
    destroySession(sessionId);
    return refuse(401, 'SESSION_EXPIRED', 'Your session has ended; sign in again');
  }
  const headers = new Headers();
  for (const h of ['content-type', 'x-request-id', 'content-disposition']) {
    const v = upstream.headers.get(h);
    if (v) headers.set(h, v);
  }
  headers.set('cache-control', 'no-store');
  return new Response(upstream.status === 204 ? null : await upstream.arrayBuffer(), {
    status: upstream.status,
    headers,
  });
}

export const GET = forward;
export const POST = forward;
export const PUT = forward;
export const PATCH = forward;
export const DELETE = forward;
