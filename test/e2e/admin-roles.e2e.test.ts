import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { AdminGuard } from '../../apps/server/src/modules/auth/admin.guard';
import { AdminRole, ROLES_KEY } from '../../apps/server/src/modules/auth/roles';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

/**
 * Every admin route and the roles allowed on it. A new /api/admin route without a row here fails the
 * first test; each row is then checked against the running server with a token of every role: 403
 * FORBIDDEN exactly for the roles not listed. `public` routes need no token (login).
 */
const { OWNER, ADMIN, HELPDESK, AUDITOR } = AdminRole;
const ANY = [OWNER, ADMIN, HELPDESK, AUDITOR];
const ADMIN_UP = [OWNER, ADMIN];
const HELPDESK_UP = [OWNER, ADMIN, HELPDESK];
const OWNER_ONLY = [OWNER];
const OWNER_AUDITOR = [OWNER, AUDITOR];
const AUDIT_READERS = [OWNER, ADMIN, AUDITOR];

type Row = { method: string; path: string; roles: AdminRole[] | 'public' };

const ROLE_TABLE: Row[] = [
  // Auth: sign-in, the caller's own account, MFA, sessions, API tokens.
  { method: 'POST', path: '/api/admin/login', roles: 'public' },
  { method: 'GET', path: '/api/admin/me', roles: ANY },
  { method: 'POST', path: '/api/admin/me/password', roles: ANY },
  { method: 'POST', path: '/api/admin/me/reauth', roles: ANY },
  { method: 'POST', path: '/api/admin/me/mfa/totp', roles: ANY },
  { method: 'POST', path: '/api/admin/me/mfa/totp/confirm', roles: ANY },
  { method: 'DELETE', path: '/api/admin/me/mfa/totp', roles: ANY },
  { method: 'GET', path: '/api/admin/sessions', roles: ANY },
  { method: 'DELETE', path: '/api/admin/sessions/:id', roles: ANY },
  { method: 'POST', path: '/api/admin/tokens', roles: ANY },
  { method: 'GET', path: '/api/admin/tokens', roles: ANY },
  { method: 'DELETE', path: '/api/admin/tokens/:id', roles: ANY },
  { method: 'POST', path: '/api/admin/logout', roles: ANY },
  // Admins and admin security settings.
  { method: 'GET', path: '/api/admin/admins', roles: OWNER_AUDITOR },
  { method: 'POST', path: '/api/admin/admins', roles: OWNER_ONLY },
  { method: 'PATCH', path: '/api/admin/admins/:username', roles: OWNER_ONLY },
  { method: 'DELETE', path: '/api/admin/admins/:username', roles: OWNER_ONLY },
  { method: 'GET', path: '/api/admin/settings', roles: OWNER_AUDITOR },
  { method: 'PUT', path: '/api/admin/settings', roles: OWNER_ONLY },
  // Directory.
  { method: 'GET', path: '/api/admin/directory', roles: ANY },
  { method: 'PUT', path: '/api/admin/directory', roles: ADMIN_UP },
  { method: 'POST', path: '/api/admin/directory/test', roles: ADMIN_UP },
  { method: 'POST', path: '/api/admin/directory/sync', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/directory/sync-runs', roles: ANY },
  { method: 'GET', path: '/api/admin/directory/sync-runs/:id', roles: ANY },
  { method: 'POST', path: '/api/admin/directory/sync-runs/:id/confirm', roles: ADMIN_UP },
  { method: 'POST', path: '/api/admin/directory/provision', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/directory/provisioning/:id', roles: ANY },
  // Users, devices, accounts, groups (rules per issue 9 §1; the owning modules carry the decorators).
  { method: 'POST', path: '/api/admin/users', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/users', roles: ANY },
  { method: 'GET', path: '/api/admin/users/:username', roles: ANY },
  { method: 'DELETE', path: '/api/admin/users/:username/devices/:deviceId', roles: HELPDESK_UP },
  { method: 'POST', path: '/api/admin/users/:username/revoke', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/groups', roles: ANY },
  // Users, devices and tombstones.
  { method: 'DELETE', path: '/api/admin/users/:username', roles: ADMIN_UP },
  { method: 'POST', path: '/api/admin/devices/revoke', roles: HELPDESK_UP },
  { method: 'GET', path: '/api/admin/users/:username/policy', roles: ANY },
  { method: 'PUT', path: '/api/admin/users/:username/policy', roles: ADMIN_UP },
  { method: 'DELETE', path: '/api/admin/users/:username/policy', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/users/:username/effective-policy', roles: ANY },
  { method: 'GET', path: '/api/admin/devices', roles: ANY },
  { method: 'GET', path: '/api/admin/tombstones', roles: ANY },
  { method: 'DELETE', path: '/api/admin/tombstones/:username', roles: OWNER_ONLY },
  { method: 'PATCH', path: '/api/admin/users/:username', roles: ADMIN_UP },
  { method: 'POST', path: '/api/admin/users/:username/suspend', roles: HELPDESK_UP },
  { method: 'POST', path: '/api/admin/users/:username/resume', roles: HELPDESK_UP },
  { method: 'POST', path: '/api/admin/users/:username/password', roles: HELPDESK_UP },
  { method: 'PATCH', path: '/api/admin/users/:username/devices/:deviceId', roles: ADMIN_UP },
  // Groups and policies.
  { method: 'POST', path: '/api/admin/groups', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/groups/:id', roles: ANY },
  { method: 'PUT', path: '/api/admin/groups/:id', roles: ADMIN_UP },
  { method: 'PUT', path: '/api/admin/groups/:id/members', roles: ADMIN_UP },
  { method: 'DELETE', path: '/api/admin/groups/:id', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/policies', roles: ANY },
  { method: 'POST', path: '/api/admin/policies', roles: ADMIN_UP },
  { method: 'POST', path: '/api/admin/policies/logos', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/policies/default', roles: ANY },
  { method: 'PUT', path: '/api/admin/policies/default', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/policies/:id', roles: ANY },
  { method: 'PUT', path: '/api/admin/policies/:id', roles: ADMIN_UP },
  { method: 'DELETE', path: '/api/admin/policies/:id', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/policies/:id/versions', roles: ANY },
  { method: 'GET', path: '/api/admin/policies/:id/preview', roles: ANY },
  // Audit log.
  { method: 'GET', path: '/api/admin/audit', roles: AUDIT_READERS },
  { method: 'GET', path: '/api/admin/audit/export', roles: AUDIT_READERS },
  { method: 'GET', path: '/api/admin/audit/verify', roles: AUDIT_READERS },
  // Certificate authority.
  { method: 'GET', path: '/api/admin/ca', roles: OWNER_AUDITOR },
  { method: 'GET', path: '/api/admin/certificates', roles: OWNER_AUDITOR },
  { method: 'GET', path: '/api/admin/ca/settings', roles: OWNER_AUDITOR },
  { method: 'PUT', path: '/api/admin/ca/settings', roles: OWNER_ONLY },
  { method: 'POST', path: '/api/admin/ca/renewals', roles: OWNER_ONLY },
  { method: 'POST', path: '/api/admin/ca/rotate', roles: OWNER_ONLY },
  { method: 'POST', path: '/api/admin/ca/retire-previous', roles: OWNER_ONLY },
  // Organization network (the server's DHT node).
  { method: 'GET', path: '/api/admin/dht', roles: ANY },
  { method: 'GET', path: '/api/admin/users/:username/presence', roles: ANY },
  // Conference rooms.
  { method: 'POST', path: '/api/admin/rooms', roles: ADMIN_UP },
  { method: 'GET', path: '/api/admin/rooms', roles: ANY },
  { method: 'GET', path: '/api/admin/rooms/:name', roles: ANY },
  { method: 'PATCH', path: '/api/admin/rooms/:name', roles: ADMIN_UP },
  { method: 'DELETE', path: '/api/admin/rooms/:name', roles: ADMIN_UP },
  { method: 'POST', path: '/api/admin/rooms/:name/host-enrollment', roles: ADMIN_UP },
];

interface Route {
  method: string;
  path: string;
  guarded: boolean;
  /** The roles from the route's decorator (handler, else controller); undefined when it has none. */
  decorated?: AdminRole[];
}

let server: TestServer;
let owner: string;
const tokens = new Map<AdminRole, string>();

before(async () => {
  server = await startTestServer();
  owner = await setUp(server);
  for (const role of ANY) {
    const res = await server.request('POST', '/api/admin/tokens', {
      token: owner,
      body: { name: `role-table-${role}`, role, expiresInDays: 1 },
    });
    assert.equal(res.status, 201, res.text());
    tokens.set(role, res.json<{ token: string }>().token);
  }
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

const joinPath = (...parts: (string | undefined)[]) =>
  '/' +
  parts
    .flatMap((p) => (p ?? '').split('/'))
    .filter(Boolean)
    .join('/');

/** Every route the running app serves, from Nest's own metadata. */
function appRoutes(): Route[] {
  const routes: Route[] = [];
  for (const mod of server.app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!controller) continue;
      const base = Reflect.getMetadata(PATH_METADATA, controller) as string | undefined;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (sub === undefined || method === undefined) continue;
        const guards = [
          ...((Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[]) ?? []),
          ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[]) ?? []),
        ];
        routes.push({
          method: RequestMethod[method],
          path: joinPath(base, sub),
          guarded: guards.includes(AdminGuard),
          decorated:
            (Reflect.getMetadata(ROLES_KEY, handler) as AdminRole[] | undefined) ??
            (Reflect.getMetadata(ROLES_KEY, controller) as AdminRole[] | undefined),
        });
      }
    }
  }
  return routes;
}

const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

test('every /api/admin route has a row in the role table, and every row is a route', () => {
  const routes = appRoutes().filter((r) => r.path.startsWith('/api/admin'));
  assert.ok(routes.length >= ROLE_TABLE.length - 5, 'the route scan finds the admin routes');
  const rows = new Set(ROLE_TABLE.map(key));
  const missing = routes.filter((r) => !rows.has(key(r))).map(key);
  assert.deepEqual(missing, [], `admin routes without a role rule in ROLE_TABLE: ${missing.join(', ')}`);
  const served = new Set(routes.map(key));
  const stale = ROLE_TABLE.filter((r) => !served.has(key(r))).map(key);
  assert.deepEqual(stale, [], `ROLE_TABLE rows that are not routes: ${stale.join(', ')}`);
  // Public rows are the routes without the admin guard, and only those.
  for (const r of routes) {
    const row = ROLE_TABLE.find((x) => key(x) === key(r))!;
    assert.equal(r.guarded, row.roles !== 'public', `${key(r)}: guarded iff not public`);
  }
});

const PLACEHOLDERS: Record<string, string> = {
  username: 'role-table-nobody',
  id: '00000000-0000-4000-8000-000000000000',
  deviceId: 'f'.repeat(40),
};

test('each role gets 403 FORBIDDEN exactly on the routes its role may not call', async (t) => {
  const routes = new Map(appRoutes().map((r) => [key(r), r]));
  // Logout ends the calling token: last.
  const rows = [...ROLE_TABLE].sort((a, b) => Number(a.path.endsWith('/logout')) - Number(b.path.endsWith('/logout')));
  const problems: string[] = [];
  for (const row of rows) {
    if (row.roles === 'public') continue;
    const route = routes.get(key(row));
    if (!route) continue; // reported by the first test
    const url = row.path.replace(/:(\w+)/g, (_, name: string) => PLACEHOLDERS[name] ?? 'x');
    // A route without a role decorator is refused to every role (fail closed) until its module adds one.
    const allowed = route.decorated ? row.roles : [];
    if (!route.decorated) t.diagnostic(`${key(row)} has no role decorator yet: expecting every role refused`);
    for (const role of ANY) {
      const res = await server.request(row.method, url, {
        token: tokens.get(role),
        body: ['GET', 'HEAD'].includes(row.method) ? undefined : {},
      });
      const forbidden = res.status === 403 && res.json().code === 'FORBIDDEN';
      if (allowed.includes(role) === forbidden) {
        problems.push(`${key(row)} as ${role}: ${res.status} ${res.text().slice(0, 120)}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('a role decorator that disagrees with the table is caught: the table is the rule', () => {
  const routes = appRoutes().filter((r) => r.path.startsWith('/api/admin') && r.decorated);
  for (const r of routes) {
    const row = ROLE_TABLE.find((x) => key(x) === key(r));
    if (!row || row.roles === 'public') continue;
    assert.deepEqual([...r.decorated!].sort(), [...row.roles].sort(), `${key(r)}: decorator vs table`);
  }
});
