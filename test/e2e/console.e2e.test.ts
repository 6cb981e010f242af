import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { consoleBuilt } from '../../apps/server/src/console';
import { enroll, makeDevice, splitPem } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { httpsRequest, setupCode, startTestServer, TestServer } from '../support/server';
import { skipReasonOrFailInCi } from '../support/system';

// The admin console in Debian's Chromium against a real server (real PostgreSQL) serving the built console:
// setup wizard → sign in → create a user → the user enrolls a device (JAMS protocol) → find it from the
// search box → revoke it in two clicks → revoked in the console and in the CRL → a conference room and its host
// secret (QR code) → the audit log and its export → a policy edit → TOTP sign-in and the helpdesk and auditor
// roles. Every page visited is screenshotted under test/artifacts/console/ and checked with axe-core (no
// serious/critical violation).

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const ARTIFACTS = path.join(ROOT, 'test/artifacts/console');
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const ADMIN = { username: 'admin', password: 'console-admin-password' };

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let dir: string;
let shot = 0;
const logLines: string[] = [];

async function openssl(args: string[]): Promise<string> {
  return run('openssl', args, { cwd: dir }).then(
    (r) => r.stdout + r.stderr,
    (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
  );
}

/** Serious or critical axe-core findings per visited page; the last test asserts there are none. */
const axeFindings: string[] = [];

/** Screenshot of the page as it is now, and axe-core's findings on it. */
async function visited(name: string): Promise<void> {
  shot += 1;
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(400); // dialogs and transitions settle (Mantine's are 200 ms)
  await page.screenshot({ path: path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`) });
  // Page scripts are strings: this program is compiled without the DOM library.
  if (!(await page.evaluate("'axe' in window"))) await page.addScriptTag({ content: AXE });
  const violations = (await page.evaluate('axe.run(document).then((r) => r.violations)')) as {
    id: string;
    impact: string;
    help: string;
    nodes: { html: string }[];
  }[];
  for (const v of violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
    axeFindings.push(
      `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.html.slice(0, 160)).join(' | ')}`,
    );
  }
}

/** RFC 4648 base32 (the authenticator secret), without padding. */
function base32(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(Number.parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits) at `unixSeconds`, written here independently of the server. */
function totpCode(secret: string, unixSeconds: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function signIn(username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const skip =
  skipReasonOrFailInCi(
    fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (scripts/install-system-deps.sh installs it)`,
  ) ?? false;

describe('admin console in Chromium', { skip }, () => {
  before(async () => {
    if (!consoleBuilt()) {
      const res = spawnSync(process.execPath, ['scripts/console-build.cjs'], { cwd: ROOT, stdio: 'inherit' });
      assert.equal(res.status, 0, 'the console builds');
    }
    fs.rmSync(ARTIFACTS, { recursive: true, force: true });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-console-'));
    const log = new PassThrough();
    log.on('data', (c: Buffer) => logLines.push(...c.toString('utf8').split('\n').filter(Boolean)));
    server = await startTestServer({ LOG_LEVEL: 'info' }, log, { console: { idleTimeoutSeconds: 900 } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 720 } });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await stopTestPostgres();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the console is served under the server URL beside the API', async () => {
    const html = await server.request('GET', '/login');
    assert.equal(html.status, 307, 'sign-in leads to setup while the server is not set up');
    assert.equal(html.headers.location, '/setup');
    const api = await server.request('GET', '/api/info');
    assert.equal(api.json().setupRequired, true, '/api stays the API');
    assert.equal((await server.request('GET', '/healthz')).status, 200);
    const proxy = await server.request('GET', '/console-api/api/admin/users');
    assert.equal(proxy.status, 401, 'the proxy needs a session');
    assert.equal(proxy.json().code, 'SESSION_EXPIRED');
  });

  test('setup wizard: inline validation, then the first admin, organization and CA', async () => {
    await page.goto(`${server.localUrl}/`);
    await page.waitForURL(/\/setup$/);
    await visited('setup');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Enter the organization name').waitFor();
    await page.getByLabel('Setup code').fill(setupCode(server));
    await page.getByLabel('Organization name').fill('Example Corp');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Confirm the password').fill('different');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('At least 8 characters', { exact: true }).waitFor();
    await page.getByText('The passwords differ').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Confirm the password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Import an existing CA').click();
    await page.getByLabel('CA certificate (PEM)').fill('not a certificate');
    await page.getByRole('button', { name: 'Create the organization' }).click();
    await page.getByText('Paste a PEM certificate').waitFor();
    await visited('setup-ca-validation');
    await page.getByText('Generate a new CA').click();
    await page.getByRole('textbox', { name: 'Key algorithm' }).click();
    await page.getByRole('option', { name: 'P-256' }).click();
    await page.getByRole('button', { name: 'Create the organization' }).click();
    await page.waitForURL(`${server.localUrl}/`, { timeout: 60_000 });
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal((await server.request('GET', '/api/info')).json().setupRequired, false);
  });

  test('sessions: HttpOnly cookie, no token in the page, sign out and sign in again', async () => {
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'enclave_session');
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!String(await page.evaluate('document.cookie')).includes('enclave_session'), 'scripts cannot read it');
    assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.goto(`${server.localUrl}/users`);
    await page.waitForURL(/\/login\?next=%2Fusers$/);
    await signIn(ADMIN.username, 'wrong-password');
    await page.getByText('Wrong username, password or code').waitFor();
    await visited('sign-in-failed');
    await signIn(ADMIN.username, ADMIN.password);
    await page.waitForURL(`${server.localUrl}/users`);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
  });

  test('state-changing calls need the CSRF token and this origin', async () => {
    const cookies = await context.cookies();
    const jar = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = cookies.find((c) => c.name === 'enclave_csrf')?.value ?? '';
    const body = { username: 'mallory', password: 'mallory-password' };
    const post = (headers: Record<string, string>) =>
      httpsRequest(`${server.localUrl}/console-api/api/admin/users`, 'POST', {
        body,
        headers: { cookie: jar, ...headers },
      });
    const origin = server.localUrl;
    const noToken = await post({ origin });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.json().code, 'CSRF_REJECTED');
    assert.equal((await post({ origin: 'https://evil.example', 'x-csrf-token': csrf })).status, 403);
    assert.equal((await post({ 'x-csrf-token': csrf })).status, 403, 'no Origin');
    const list = await httpsRequest(`${server.localUrl}/console-api/api/admin/users?search=mallory`, 'GET', {
      headers: { cookie: jar },
    });
    assert.equal(list.status, 200);
    assert.equal(list.json<{ items: unknown[] }>().items.length, 0, 'nothing was created');
    const outside = await httpsRequest(`${server.localUrl}/console-api/api/auth/devices`, 'GET', {
      headers: { cookie: jar },
    });
    assert.equal(outside.status, 404, 'only the admin API is reachable through the proxy');
  });

  test('users: create one with validation from the form and the server', async () => {
    for (const [username, firstName, lastName] of [
      ['bob', 'Bob', 'Nguyen'],
      ['carol', 'Carol', 'Diaz'],
    ]) {
      const created = await httpsRequest(`${server.localUrl}/api/admin/users`, 'POST', {
        body: { username, password: `${username}-password`, firstName, lastName, email: `${username}@example.org` },
        headers: { authorization: `Bearer ${await adminToken()}` },
      });
      assert.equal(created.status, 201, created.text());
    }
    await page.goto(`${server.localUrl}/users`);
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await dialog.getByLabel('Username').fill('bob');
    await dialog.getByLabel('Initial password').fill('x');
    await dialog.getByLabel('Email').fill('not-an-email');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await dialog.getByText('At least 8 characters', { exact: true }).waitFor();
    await dialog.getByText('Enter a valid email address').waitFor();
    await dialog.getByLabel('Initial password').fill('alice-password');
    await dialog.getByLabel('Email').fill('bob2@example.org');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await dialog.getByRole('alert').or(dialog.locator('.mantine-InputWrapper-error')).first().waitFor();
    assert.match((await dialog.textContent()) ?? '', /exist|taken|already/i, 'the server refusal is shown');
    await dialog.getByLabel('Username').fill('alice');
    await dialog.getByLabel('First name').fill('Alice');
    await dialog.getByLabel('Last name').fill('Martin');
    await dialog.getByLabel('Email').fill('alice@example.org');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.waitForURL(/\/users\/alice$/);
    await page.getByText('No devices yet').waitFor();
    await visited('user-no-devices');
    await page.goto(`${server.localUrl}/users`);
    await page.getByRole('link', { name: 'alice', exact: true }).waitFor();
    await visited('users');
    await page.getByLabel('Search users').fill('diaz');
    await page.waitForURL(/search=diaz/);
    await page.getByRole('link', { name: 'carol', exact: true }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'alice', exact: true }).count(), 0);
  });

  test('a lost laptop: search, revoke in two clicks, revoked in the console and in the CRL', async () => {
    const device = makeDevice();
    const res = await enroll(server, 'alice', 'alice-password', device, 'Alice ThinkPad');
    assert.equal(res.status, 200, res.text());
    const answer = res.json<{ certificateChain: string; deviceReceipt: string }>();
    const [deviceCert, accountCert] = splitPem(answer.certificateChain);
    const jamiId = JSON.parse(answer.deviceReceipt).id as string;
    await enroll(server, 'alice', 'alice-password', makeDevice(), 'Alice Phone');

    await page.getByRole('link', { name: 'Devices', exact: true }).click();
    await page.waitForURL(/\/devices$/);
    await visited('devices-empty');
    await page.getByLabel('Find a person or their device').fill('alice');
    const row = page.getByRole('row').filter({ hasText: 'Alice ThinkPad' });
    await row.waitFor();
    await visited('devices-search');
    await row.getByRole('button', { name: /^Revoke/ }).click(); // click 1
    const dialog = page.getByRole('dialog', { name: 'Revoke this device?' });
    await dialog.waitFor();
    await dialog.getByText('Alice Martin (alice)').waitFor(); // the owner, by name
    assert.match((await dialog.textContent()) ?? '', /Alice ThinkPad/, 'the confirmation names the device');
    await visited('revoke-confirmation');
    await dialog.getByRole('button', { name: 'Revoke device' }).click(); // click 2
    await dialog.waitFor({ state: 'hidden' });
    await row.getByText(/^Revoked/).waitFor();
    assert.equal(await row.getByRole('button', { name: /^Revoke/ }).count(), 0);
    const phone = page.getByRole('row').filter({ hasText: 'Alice Phone' });
    await phone.getByText('Active').waitFor();
    await visited('devices-revoked');

    fs.writeFileSync(path.join(dir, 'account.pem'), accountCert.toString());
    const crl = await server.request('GET', `/api/crl/${jamiId}`);
    assert.equal(crl.status, 200);
    fs.writeFileSync(path.join(dir, 'account.crl'), crl.body);
    const crlText = await openssl([
      'crl',
      '-inform',
      'DER',
      '-in',
      'account.crl',
      '-CAfile',
      'account.pem',
      '-noout',
      '-verify',
      '-text',
    ]);
    assert.match(crlText, /verify OK/);
    assert.match(crlText.toLowerCase(), new RegExp(deviceCert.serialNumber.toLowerCase().replace(/^0+/, '')));

    await page.getByRole('link', { name: 'alice', exact: true }).first().click();
    await page.waitForURL(/\/users\/alice$/);
    await page.getByText('1 active, 1 revoked').waitFor();
    await visited('user');
  });

  test('dashboard, groups and directory pages render with their empty states', async () => {
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await page.waitForURL(`${server.localUrl}/`);
    await page.getByRole('region', { name: 'Users' }).getByText('3', { exact: true }).waitFor();
    await page.getByRole('region', { name: 'Active devices' }).getByText('1', { exact: true }).waitFor();
    await page.getByRole('region', { name: 'Certificates expiring' }).waitFor(); // the owner sees certificates
    await visited('dashboard');
    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.waitForURL(/\/groups$/);
    await page.getByText('No groups yet').waitFor();
    await visited('groups');
    await page.getByRole('link', { name: 'Directory', exact: true }).click();
    await page.waitForURL(/\/directory$/);
    await page.getByText('No sync has run yet').waitFor();
    await visited('directory');
    await page.getByText('Active Directory', { exact: true }).click();
    await page.getByLabel('Base DN', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/ldap:\/\/ or ldaps:\/\/ URL/).waitFor();
    await visited('directory-validation');
  });

  test('conference rooms: create one with a moderator, issue the host secret with its QR code', async () => {
    await page.getByRole('link', { name: 'Conference rooms', exact: true }).click();
    await page.waitForURL(/\/rooms$/);
    await page.getByText('No rooms yet').waitFor();
    await page.getByRole('button', { name: 'New room' }).click();
    const dialog = page.getByRole('dialog', { name: 'New room' });
    await dialog.getByLabel('Room name').fill('No Spaces');
    await dialog.getByRole('button', { name: 'Create room' }).click();
    await dialog.getByText('3 to 32 characters among a-z').waitFor();
    await dialog.getByLabel('Room name').fill('room-101');
    await dialog.getByLabel('Display name').fill('Room 101');
    await dialog.getByRole('textbox', { name: 'Default moderators' }).click();
    await page.getByRole('option', { name: 'Carol Diaz (carol)' }).click();
    await dialog.getByRole('heading', { name: 'New room' }).click(); // closes the picker's list
    await visited('room-new');
    await dialog.getByRole('button', { name: 'Create room' }).click();
    await page.waitForURL(/\/rooms\/room-101$/);
    await page.getByRole('heading', { name: 'Room 101' }).waitFor();
    const moderators = page.getByRole('region', { name: 'Default moderators' });
    await moderators.getByText('Users: carol').waitFor();
    await moderators.getByText(/Pending.*carol/).waitFor(); // carol has no device yet
    await page.getByRole('region', { name: 'Members' }).getByText('Everyone in the organization may call').waitFor();
    await page.getByRole('region', { name: 'Host' }).getByText('not enrolled').waitFor();

    await page.getByRole('button', { name: 'Host enrollment' }).click();
    const secret = page.getByRole('textbox', { name: 'Host secret', exact: true });
    await secret.waitFor();
    const password = await secret.inputValue();
    assert.ok(password.length >= 16, 'a secret is shown as text');
    await page.getByRole('img', { name: 'QR code of the host secret' }).waitFor();
    await page
      .getByRole('region', { name: 'Host' })
      .getByText(/unused, expires/)
      .waitFor();
    await visited('room');
    const room = await server.request('GET', '/api/admin/rooms/room-101', { token: await adminToken() });
    assert.equal(room.status, 200, room.text());
    assert.deepEqual(room.json<{ moderators: { users: string[] } }>().moderators.users, ['carol']);
    await page.goto(`${server.localUrl}/rooms`);
    await page.getByRole('row').filter({ hasText: 'room-101' }).getByText('carol').waitFor();
    await visited('rooms');
  });

  test('audit log: the chain verifies, filters, and the export goes through the console proxy', async () => {
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.waitForURL(/\/audit$/);
    await page.getByText('The hash chain verifies').waitFor();
    await page.getByLabel('Action').fill('room.created');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=room\.created/);
    const rows = page.getByRole('row').filter({ hasText: 'room-101' });
    await rows.first().waitFor();
    assert.equal(await page.getByRole('row').filter({ hasText: 'user.created' }).count(), 0, 'the filter applies');
    await visited('audit');
    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert.ok(href?.startsWith('/console-api/api/admin/audit/export?'), href ?? 'no link');
    const csv = await page.request.get(`${server.localUrl}${href}`);
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-type'] ?? '', /text\/csv/);
    const body = await csv.text();
    assert.match(body, /room\.created/);
    assert.doesNotMatch(body, /user\.created/, 'the export carries the filter');
  });

  test('policies: edit a setting, the server refusal on its row, then a new version with its diff', async () => {
    const created = await server.request('POST', '/api/admin/policies', {
      token: await adminToken(),
      body: { name: 'Engineering', settings: { 'TURN.enable': true, 'TURN.server': 'turn.example.org:3478' } },
    });
    assert.equal(created.status, 201, created.text());
    await page.getByRole('link', { name: 'Policies', exact: true }).click();
    await page.waitForURL(/\/policies$/);
    await page.getByRole('link', { name: 'Engineering', exact: true }).click();
    await page.waitForURL(/\/policies\/[^/]+$/);
    const value = page.getByLabel('Value of TURN.server');
    await value.fill('42');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const settings = page.getByRole('region', { name: 'Settings' });
    await settings
      .locator('.mantine-InputWrapper-error')
      .filter({ hasText: /^TURN\.server/ })
      .waitFor();
    await visited('policy-validation');
    await value.fill('"turn2.example.org:3478"');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('A new version was recorded').waitFor();
    const v2 = page.getByRole('article', { name: 'Version 2' });
    await v2.getByText('~ TURN.server').waitFor();
    await visited('policy');
    const stored = await server.request('GET', `/api/admin/policies/${created.json<{ id: string }>().id}`, {
      token: await adminToken(),
    });
    assert.equal(
      stored.json<{ settings: Record<string, unknown> }>().settings['TURN.server'],
      'turn2.example.org:3478',
    );
  });

  test('an idle session returns to sign-in, then to the same page', async () => {
    const runtime = (globalThis as { __enclaveConsole?: { idleTimeoutSeconds: number } }).__enclaveConsole;
    assert.ok(runtime);
    runtime.idleTimeoutSeconds = 1;
    await new Promise((r) => setTimeout(r, 2500));
    await page.goto(`${server.localUrl}/users?search=alice`);
    await page.waitForURL(/\/login\?next=%2Fusers%3Fsearch%3Dalice$/);
    runtime.idleTimeoutSeconds = 900;
    await visited('sign-in');
    await signIn(ADMIN.username, ADMIN.password);
    await page.waitForURL(`${server.localUrl}/users?search=alice`);
    await page.getByRole('link', { name: 'alice', exact: true }).waitFor();
  });

  test('roles: an admin signs in with a TOTP code; helpdesk and auditor see only what they may do', async () => {
    // Creating admins needs a recent re-authentication: the owner's fresh sign-in counts.
    const fresh = await server.request('POST', '/api/admin/login', { body: ADMIN });
    assert.equal(fresh.status, 200, fresh.text());
    const owner = fresh.json<{ access_token: string }>().access_token;
    for (const [username, role] of [
      ['sam', 'admin'],
      ['hugo', 'helpdesk'],
      ['audrey', 'auditor'],
    ]) {
      const created = await server.request('POST', '/api/admin/admins', {
        token: owner,
        body: { username, password: `${username}-console-password`, role },
      });
      assert.equal(created.status, 201, created.text());
    }
    const sam = await server.request('POST', '/api/admin/login', {
      body: { username: 'sam', password: 'sam-console-password' },
    });
    const samToken = sam.json<{ access_token: string }>().access_token;
    const enrol = await server.request('POST', '/api/admin/me/mfa/totp', { token: samToken });
    assert.equal(enrol.status, 200, enrol.text());
    const secret = enrol.json<{ secret: string }>().secret;
    const now = () => Math.floor(Date.now() / 1000);
    const confirmed = await server.request('POST', '/api/admin/me/mfa/totp/confirm', {
      token: samToken,
      body: { code: totpCode(secret, now()) },
    });
    assert.equal(confirmed.status, 200, confirmed.text());

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await signIn('sam', 'sam-console-password');
    const code = page.getByLabel('Authentication code');
    await code.waitFor();
    await visited('sign-in-totp');
    await code.fill('000000' === totpCode(secret, now() + 30) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.mantine-InputWrapper-error').or(page.getByRole('alert')).first().waitFor();
    assert.ok(page.url().includes('/login'), 'a wrong code does not sign in');
    await code.fill(totpCode(secret, now() + 30)); // the next step: the confirming code cannot be replayed
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.localUrl}/`);
    await page.getByText('(admin)').waitFor();
    assert.equal(await page.getByRole('region', { name: 'Certificates expiring' }).count(), 0, 'admins see no CA data');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await signIn('hugo', 'hugo-console-password');
    await page.waitForURL(`${server.localUrl}/`);
    await page.getByText('(helpdesk)').waitFor();
    await visited('dashboard-helpdesk');
    const nav = page.getByRole('navigation', { name: 'Sections' });
    assert.equal(await page.getByRole('region', { name: 'Certificates expiring' }).count(), 0, 'no CA data');
    for (const hidden of ['Audit log', 'Policies']) {
      assert.equal(await nav.getByRole('link', { name: hidden, exact: true }).count(), 0, `no ${hidden} page`);
    }
    await page.goto(`${server.localUrl}/users`);
    await page.getByRole('link', { name: 'alice', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'New user' }).count(), 0, 'helpdesk creates no user');
    await page.goto(`${server.localUrl}/devices?q=alice`);
    await page
      .getByRole('row')
      .filter({ hasText: 'Alice Phone' })
      .getByRole('button', { name: /^Revoke/ })
      .waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await signIn('audrey', 'audrey-console-password');
    await page.waitForURL(`${server.localUrl}/`);
    await page.getByText('(auditor)').waitFor();
    await page.getByRole('region', { name: 'Certificates expiring' }).waitFor();
    await page.goto(`${server.localUrl}/devices?q=alice`);
    await page.getByRole('row').filter({ hasText: 'Alice Phone' }).waitFor();
    await visited('devices-auditor');
    assert.equal(await page.getByRole('button', { name: /^Revoke/ }).count(), 0, 'the auditor revokes nothing');
    await page.goto(`${server.localUrl}/users`);
    await page.getByRole('link', { name: 'alice', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'New user' }).count(), 0);
    await page.goto(`${server.localUrl}/directory`);
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Save settings' }).count(), 0, 'no directory change');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await signIn(ADMIN.username, ADMIN.password);
    await page.waitForURL(`${server.localUrl}/`);
  });

  test('axe-core finds no serious or critical violation on any visited page', () => {
    assert.ok(shot >= 12, `pages were visited (${shot})`);
    assert.deepEqual(axeFindings, []);
  });
});

let token: string | undefined;
async function adminToken(): Promise<string> {
  if (token) return token;
  const res = await server.request('POST', '/api/admin/login', { body: ADMIN });
  assert.equal(res.status, 200, res.text());
  token = res.json<{ access_token: string }>().access_token;
  return token;
}
