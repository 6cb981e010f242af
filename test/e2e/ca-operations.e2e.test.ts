import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ocspNameHashes } from '@enclave/pki';
import { DataSource } from 'typeorm';
import { QueueName } from '../../apps/server/src/modules/queue/queue-names';
import { QueueService } from '../../apps/server/src/modules/queue/queue.service';
import { deviceLogin, enrollOk, Enrolled, splitPem } from '../support/jami-client';
import { opensslSelfSigned } from '../support/openssl';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const run = promisify(execFile);
const DAY_MS = 86_400_000;
let server: TestServer;
let admin: string;
let dir: string;
let db: DataSource;

async function openssl(args: string[]) {
  return run('openssl', args, { cwd: dir, timeout: 30_000 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
}

async function opensslOk(args: string[]) {
  const r = await openssl(args);
  assert.equal(r.code, 0, `openssl ${args.join(' ')}:\n${r.out}`);
  return r.out;
}

const write = (name: string, content: string | Buffer) => {
  fs.writeFileSync(path.join(dir, name), content);
  return name;
};

async function createUser(username: string) {
  const res = await server.request('POST', '/api/admin/users', {
    token: admin,
    body: { username, password: `${username}-password` },
  });
  assert.equal(res.status, 201, res.text());
}

const api = (method: string, p: string, body?: unknown) => server.request(method, p, { token: admin, body });

/** Rows that a refused request must leave unchanged. */
async function snapshot() {
  const q = async (sql: string) => JSON.stringify(await db.query(sql));
  return {
    cas: await q('SELECT id, active, overlap_until, retired_at FROM certificate_authorities ORDER BY id'),
    certs: await q('SELECT id, revoked_at, superseded_by_id FROM issued_certificates ORDER BY id'),
    settings: await q('SELECT account_cert_days, device_cert_days, crl_hours, renew_before_days FROM ca_settings'),
    audit: await q('SELECT count(*) FROM audit_events'),
  };
}

/**
 * OCSP status of `certFile` (issued by `issuerFile`) asked over HTTPS with openssl ocsp. With a `serial`
 * instead of a certificate, openssl hashes the issuer file's own subject (with -cert it hashes the
 * certificate's issuer name).
 */
async function ocspStatus(issuerFile: string, certFile: string, serial?: string): Promise<string> {
  const r = await openssl([
    'ocsp',
    '-issuer',
    issuerFile,
    ...(serial ? ['-serial', `0x${serial}`] : ['-cert', certFile]),
    '-url',
    `https://127.0.0.1:${server.port}/api/ocsp`,
    '-VAfile',
    issuerFile,
    '-resp_text',
  ]);
  return r.out;
}

before(async () => {
  server = await startTestServer({ ENCLAVE_LOGIN_MAX_FAILURES: '50' });
  admin = await setUp(server);
  db = server.app.get(DataSource);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-ca-ops-'));
  for (const u of ['alice', 'bob', 'carol']) await createUser(u);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('CA overview, settings and certificate listing', () => {
  test('GET /api/admin/ca reports subject, key, fingerprints, validity and counts', async () => {
    await enrollOk(server, 'carol', 'carol-password');
    const res = await api('GET', '/api/admin/ca');
    assert.equal(res.status, 200, res.text());
    const body = res.json<{
      active: Record<string, unknown>;
      previous: unknown;
      crossCertificates: unknown[];
      counts: Record<string, number>;
    }>();
    const x = new X509Certificate(String(body.active.certificatePem));
    assert.equal(body.active.status, 'active');
    assert.match(String(body.active.subject), /CN=Example Corp CA/);
    assert.equal(body.active.keyAlgorithm, 'P-256');
    assert.equal(body.active.keySize, 256);
    assert.equal(body.active.sha1Fingerprint, x.fingerprint);
    assert.equal(body.active.sha256Fingerprint, x.fingerprint256);
    assert.equal(body.active.notAfter, new Date(x.validTo).toISOString());
    assert.equal(body.previous, null);
    assert.deepEqual(body.crossCertificates, []);
    assert.equal(body.counts.accountCertificates, 1);
    assert.equal(body.counts.deviceCertificates, 1);
    assert.equal(body.counts.revoked, 0);
    assert.equal(body.counts.expiringWithinDays, 30);
  });

  test('PUT /api/admin/ca/settings refuses a lifetime that outlives the CA, naming the field, and writes nothing', async () => {
    const before = await snapshot();
    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [{ accountCertDays: 4000 }, 400, 'CA_SETTINGS_INVALID', /accountCertDays: 4000 days would outlive the CA/],
      [{ deviceCertDays: 3700 }, 400, 'CA_SETTINGS_INVALID', /deviceCertDays/],
      [{ accountCertDays: 100, deviceCertDays: 200 }, 400, 'CA_SETTINGS_INVALID', /deviceCertDays: must not exceed/],
      [{ renewBeforeDays: 2000 }, 400, 'CA_SETTINGS_INVALID', /renewBeforeDays/],
      [{ crlHours: 0 }, 400, 'VALIDATION_FAILED', /crlHours/],
      [{ accountCertDays: '30' }, 400, 'VALIDATION_FAILED', /accountCertDays/],
      [{ accountCertDays: 1e300 }, 400, 'VALIDATION_FAILED', /accountCertDays/],
      [{ bogus: 1 }, 400, 'VALIDATION_FAILED', /bogus/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await api('PUT', '/api/admin/ca/settings', body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text()}`);
      assert.equal(res.json().code, code);
      assert.match(String(res.json().message), message);
    }
    assert.deepEqual(await snapshot(), before);
  });

  test('lifetimes live in the database and issuance uses them', async () => {
    const got = await api('GET', '/api/admin/ca/settings');
    assert.equal(got.status, 200);
    assert.equal(got.json().deviceCertDays, 1095);
    assert.equal(got.json().crlHours, 24);
    const put = await api('PUT', '/api/admin/ca/settings', { deviceCertDays: 40, crlHours: 12 });
    assert.equal(put.status, 200, put.text());
    assert.deepEqual(put.json(), { ...got.json(), deviceCertDays: 40, crlHours: 12 });
    assert.deepEqual((await api('GET', '/api/admin/ca/settings')).json(), put.json());
    const [audit] = await db.query("SELECT actor FROM audit_events WHERE action = 'ca.settings_updated'");
    assert.equal(audit.actor, 'admin:admin');

    const e = await enrollOk(server, 'carol', 'carol-password');
    const days = (new Date(e.certs[0].validTo).getTime() - Date.now()) / DAY_MS;
    assert.ok(days > 39 && days <= 40, `device certificate lasts ${days} days`);
    // crlHours: a freshly signed CRL's nextUpdate is 12 hours after its thisUpdate.
    await db.query('DELETE FROM crls');
    const caKeyId = (await api('GET', '/api/admin/ca')).json<{ active: { keyId: string } }>().active.keyId;
    const crl = await server.request('GET', `/api/crl/${caKeyId}`);
    write('settings.crl', crl.body);
    const text = await opensslOk([
      'crl',
      '-inform',
      'DER',
      '-in',
      'settings.crl',
      '-noout',
      '-lastupdate',
      '-nextupdate',
    ]);
    const last = Date.parse(/lastUpdate=(.+)/.exec(text)?.[1] ?? '');
    const next = Date.parse(/nextUpdate=(.+)/.exec(text)?.[1] ?? '');
    assert.equal(next - last, 12 * 3600_000);
    const reset = await api('PUT', '/api/admin/ca/settings', { deviceCertDays: 1095, crlHours: 24 });
    assert.equal(reset.status, 200, reset.text());
  });

  test('GET /api/admin/certificates filters by type, status and expiry and pages with a cursor', async () => {
    const all = await api('GET', '/api/admin/certificates?type=device&limit=1');
    assert.equal(all.status, 200, all.text());
    const first = all.json<{ items: { id: string; type: string; notAfter: string }[]; nextCursor: string }>();
    assert.equal(first.items.length, 1);
    assert.equal(first.items[0].type, 'device');
    assert.ok(first.nextCursor);
    const second = (await api('GET', `/api/admin/certificates?type=device&limit=1&cursor=${first.nextCursor}`)).json<{
      items: { id: string; notAfter: string }[];
      nextCursor: string | null;
    }>();
    assert.equal(second.items.length, 1);
    assert.notEqual(second.items[0].id, first.items[0].id);
    assert.ok(second.items[0].notAfter >= first.items[0].notAfter);
    assert.equal(second.nextCursor, null);

    const soon = (await api('GET', '/api/admin/certificates?expiringWithinDays=45')).json<{
      items: { type: string }[];
    }>();
    assert.deepEqual(
      soon.items.map((i) => i.type),
      ['device'],
    );
    const server_ = (await api('GET', '/api/admin/certificates?type=server&status=valid')).json<{ items: unknown[] }>();
    assert.equal(server_.items.length, 1);

    for (const [query, field] of [
      ['type=ca', 'type'],
      ['status=zombie', 'status'],
      ['limit=0', 'limit'],
      ['limit=1e300', 'limit'],
      ['expiringWithinDays=-1', 'expiringWithinDays'],
      ['cursor=bm9wZQ', 'cursor'],
      ['cursor=%00', 'cursor'],
    ]) {
      const res = await api('GET', `/api/admin/certificates?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text()}`);
      assert.match(String(res.json().message), new RegExp(field));
    }
  });
});

describe('OCSP checks the issuer name hash', () => {
  let alice: Enrolled;

  before(async () => {
    alice = await enrollOk(server, 'alice', 'alice-password');
    write('alice-device.pem', alice.certs[0].toString());
    write('alice-account.pem', alice.certs[1].toString());
    write('alice-account.pub', alice.certs[1].publicKey.export({ type: 'spki', format: 'pem' }).toString());
    // An "issuer" with the account's public key under another name.
    await opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key']);
    await opensslOk(['req', '-new', '-key', 'other.key', '-subj', '/CN=Not the account', '-out', 'fake.csr']);
    await opensslOk([
      'x509',
      '-req',
      '-in',
      'fake.csr',
      '-signkey',
      'other.key',
      '-force_pubkey',
      'alice-account.pub',
      '-out',
      'fake-issuer.pem',
    ]);
  });

  test('openssl ocsp: the right issuer gets "good"; same key under another name gets "unauthorized"', async () => {
    assert.match(await ocspStatus('alice-account.pem', 'alice-device.pem'), /alice-device.pem: good/);
    const serial = alice.certs[0].serialNumber;
    assert.match(await ocspStatus('alice-account.pem', '', serial), /: good/);
    const wrong = await ocspStatus('fake-issuer.pem', '', serial);
    assert.match(wrong, /unauthorized/i);
    assert.doesNotMatch(wrong, /: good/);
  });

  test('a crafted request whose name hash is altered is answered "unauthorized"', async () => {
    await opensslOk([
      'ocsp',
      '-issuer',
      'alice-account.pem',
      '-cert',
      'alice-device.pem',
      '-no_nonce',
      '-reqout',
      'good.req',
    ]);
    const good = fs.readFileSync(path.join(dir, 'good.req'));
    const nameHash = Buffer.from(ocspNameHashes(alice.certs[1].toString()).sha1, 'hex');
    const at = good.indexOf(nameHash);
    assert.ok(at > 0, 'the request carries the account name hash');
    const crafted = Buffer.from(good);
    crafted[at] ^= 0xff;
    for (const [name, body, expected] of [
      ['good', good, /Cert Status: good/],
      ['crafted', crafted, /unauthorized/i],
    ] as const) {
      const res = await server.request('POST', '/api/ocsp', { rawBody: body, contentType: 'application/ocsp-request' });
      assert.equal(res.status, 200);
      write(`${name}.resp`, res.body);
      const { out } = await openssl(['ocsp', '-respin', `${name}.resp`, '-resp_text', '-noverify']);
      assert.match(out, expected, name);
    }
  });
});

test('GET /api/ocsp/{request} answers malformedRequest, not a 500, to a path that is not percent-decodable', async () => {
  const res = await server.request('GET', '/api/ocsp/%25E0%25A4%25A');
  assert.equal(res.status, 200, res.text());
  write('bad-get.resp', res.body);
  const { out } = await openssl(['ocsp', '-respin', 'bad-get.resp', '-resp_text', '-noverify']);
  assert.match(out, /malformedrequest/i);
});

describe('renewal', () => {
  let bob: Enrolled;
  let report: {
    accounts: number;
    devices: number;
    renewed: { type: string; previousId: string; id: string }[];
    skipped: unknown[];
  };

  before(async () => {
    // Issue short certificates, then raise the lifetimes: bob's certificates are due for renewal.
    assert.equal(
      (await api('PUT', '/api/admin/ca/settings', { accountCertDays: 25, deviceCertDays: 20, renewBeforeDays: 10 }))
        .status,
      200,
    );
    bob = await enrollOk(server, 'bob', 'bob-password');
    assert.equal(
      (await api('PUT', '/api/admin/ca/settings', { accountCertDays: 3000, deviceCertDays: 365, renewBeforeDays: 30 }))
        .status,
      200,
    );
  });

  test('POST /api/admin/ca/renewals reissues due account and device certificates with the same keys', async () => {
    const before = await snapshot();
    const bad = await api('POST', '/api/admin/ca/renewals', { withinDays: 0 });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json().message), /withinDays/);
    assert.deepEqual(await snapshot(), before);

    const res = await api('POST', '/api/admin/ca/renewals', {});
    assert.equal(res.status, 200, res.text());
    report = res.json();
    assert.equal(report.accounts, 1);
    assert.equal(report.devices, 1);
    assert.deepEqual(report.skipped, []);
    const rows = await db.query(
      'SELECT id, kind, key_id, subject, serial_number, not_after, revoked_at, superseded_by_id, certificate_pem FROM issued_certificates WHERE id = ANY($1)',
      [report.renewed.flatMap((r) => [r.previousId, r.id])],
    );
    const byId = new Map(rows.map((r: { id: string }) => [r.id, r]));
    for (const r of report.renewed) {
      const old = byId.get(r.previousId) as Record<string, unknown>;
      const next = byId.get(r.id) as Record<string, unknown>;
      assert.equal(old.superseded_by_id, r.id);
      assert.equal(old.revoked_at, null, 'superseded, not revoked');
      assert.equal(next.key_id, old.key_id);
      assert.equal(next.subject, old.subject);
      assert.notEqual(next.serial_number, old.serial_number);
      assert.ok((next.not_after as Date).getTime() > Date.now() + 300 * DAY_MS);
    }
    // The account now holds its renewed certificate; the device row points at its renewed one.
    const account = report.renewed.find((r) => r.type === 'account');
    const [acc] = await db.query('SELECT certificate_id FROM accounts WHERE certificate_id = $1', [account?.id]);
    assert.ok(acc);
    const device = report.renewed.find((r) => r.type === 'device');
    const [dev] = await db.query('SELECT certificate_id FROM devices WHERE certificate_id = $1', [device?.id]);
    assert.ok(dev);
    const audits = await db.query("SELECT count(*)::int AS n FROM audit_events WHERE action = 'certificate.renewed'");
    assert.equal(audits[0].n, 2);

    // The renewed chain verifies; the old device certificate chains through the renewed account certificate.
    const caPem = (await server.request('GET', '/api/ca')).text();
    write('root.pem', caPem);
    write('bob-account-new.pem', String((byId.get(account!.id) as Record<string, unknown>).certificate_pem));
    write('bob-device-new.pem', String((byId.get(device!.id) as Record<string, unknown>).certificate_pem));
    write('bob-device-old.pem', bob.certs[0].toString());
    await opensslOk(['verify', '-CAfile', 'root.pem', '-untrusted', 'bob-account-new.pem', 'bob-device-new.pem']);
    await opensslOk(['verify', '-CAfile', 'root.pem', '-untrusted', 'bob-account-new.pem', 'bob-device-old.pem']);
    assert.match(await ocspStatus('bob-account-new.pem', 'bob-device-old.pem'), /bob-device-old.pem: good/);
  });

  test('the device still logs in with its superseded certificate and is handed its renewed chain', async () => {
    const res = await deviceLogin(server, bob);
    assert.equal(res.status, 200, res.text());
    assert.equal(res.json().scope, 'DEVICE');
    assert.ok(Number.isInteger(res.json().expires_in));
    const chain = splitPem(String(res.json().certificateChain));
    assert.equal(chain.length, 3);
    assert.equal(chain[0].toString(), fs.readFileSync(path.join(dir, 'bob-device-new.pem'), 'utf8'));
    assert.ok(chain[0].publicKey.equals(bob.certs[0].publicKey));
    // Logging in with the renewed chain works and carries no further chain.
    const renewed = { ...bob, chainPem: String(res.json().certificateChain) };
    const again = await deviceLogin(server, renewed);
    assert.equal(again.status, 200, again.text());
    assert.equal(again.json().certificateChain, undefined);
  });

  test('re-running renews nothing new', async () => {
    const before = await snapshot();
    const again = await api('POST', '/api/admin/ca/renewals', {});
    assert.equal(again.status, 200);
    assert.equal(again.json().accounts, 0);
    assert.equal(again.json().devices, 0);
    assert.deepEqual(await snapshot(), before);
  });

  test('a certificate whose renewal would be due at once is reported as skipped, not churned', async () => {
    const res = await api('POST', '/api/admin/ca/renewals', { withinDays: 1000 });
    assert.equal(res.status, 200, res.text());
    const body = res.json<{ devices: number; skipped: { reason: string }[] }>();
    assert.equal(body.devices, 0);
    assert.ok(body.skipped.length > 0);
    assert.match(body.skipped[0].reason, /would itself expire within 1000 days/);
  });
  test('revoking a renewed device revokes its superseded certificate too', async () => {
    const res = await api('DELETE', `/api/admin/users/bob/devices/${bob.device.deviceId}`);
    assert.equal(res.status, 200, res.text());
    const rows = await db.query(
      "SELECT c.revoked_at FROM issued_certificates c WHERE c.kind = 'device' AND c.key_id = (SELECT key_id FROM issued_certificates WHERE certificate_pem = $1)",
      [bob.certs[0].toString()],
    );
    assert.equal(rows.length, 2);
    for (const row of rows) assert.ok(row.revoked_at, 'old and renewed certificates are both revoked');
    assert.match(await ocspStatus('bob-account-new.pem', 'bob-device-old.pem'), /bob-device-old.pem: revoked/);
    assert.equal((await deviceLogin(server, bob)).status, 401);
  });
});

describe('rotation', () => {
  let oldRoot: string;
  let pre: Enrolled;
  let post: Enrolled;
  let overview: {
    active: { keyId: string; certificatePem: string };
    previous: { keyId: string; certificatePem: string; overlapUntil: string } | null;
    crossCertificates: { subjectKeyId: string; issuerKeyId: string; certificatePem: string }[];
  };

  before(async () => {
    oldRoot = (await server.request('GET', '/api/ca')).text();
    pre = await enrollOk(server, 'alice', 'alice-password');
    write('old-root.pem', oldRoot);
    write('pre-device.pem', pre.certs[0].toString());
    write('pre-account.pem', pre.certs[1].toString());
  });

  test('bad rotation input gets a 400 naming the field and changes nothing', async () => {
    const before = await snapshot();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ mode: 'generate' }, /overlapDays/],
      [{ mode: 'generate', overlapDays: 0 }, /overlapDays/],
      [{ mode: 'generate', overlapDays: 30, algorithm: 'DSA' }, /algorithm/],
      [{ mode: 'rotate', overlapDays: 30 }, /mode/],
      [{ mode: 'import', overlapDays: 30 }, /certificatePem/],
      [{ mode: 'import', overlapDays: 30, certificatePem: oldRoot }, /privateKeyPem/],
      [{ mode: 'import', overlapDays: 30, certificatePem: 'junk', privateKeyPem: 'junk' }, /certificate/i],
      [{ mode: 'generate', overlapDays: 30, commonName: 'Example Corp CA' }, /commonName/],
      [{ mode: 'generate', overlapDays: 30, commonName: 'a\u0000b' }, /commonName/],
    ];
    for (const [body, message] of cases) {
      const res = await api('POST', '/api/admin/ca/rotate', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text()}`);
      assert.match(String(res.json().message), message, JSON.stringify(body));
    }
    const retire = await api('POST', '/api/admin/ca/retire-previous');
    assert.equal(retire.status, 409);
    assert.equal(retire.json().code, 'CA_NO_PREVIOUS');
    assert.deepEqual(await snapshot(), before);
  });

  test('POST /api/admin/ca/rotate creates a new CA, cross-signs both ways and moves accounts to it', async () => {
    const res = await api('POST', '/api/admin/ca/rotate', { mode: 'generate', algorithm: 'P-256', overlapDays: 30 });
    assert.equal(res.status, 201, res.text());
    const body = res.json<{ ca: typeof overview; reissuedAccounts: number }>();
    overview = body.ca;
    assert.equal(body.reissuedAccounts, 3);
    assert.ok(overview.previous);
    assert.notEqual(overview.active.keyId, overview.previous.keyId);
    assert.equal(overview.previous.certificatePem, oldRoot);
    assert.equal(overview.crossCertificates.length, 2);
    const overlapDays = (Date.parse(overview.previous.overlapUntil) - Date.now()) / DAY_MS;
    assert.ok(overlapDays > 29.9 && overlapDays <= 30);

    // /api/ca serves the new CA first, then the previous one and the two cross certificates.
    const bundle = splitPem((await server.request('GET', '/api/ca')).text());
    assert.equal(bundle.length, 4);
    assert.equal(bundle[0].toString(), new X509Certificate(overview.active.certificatePem).toString());
    assert.equal(bundle[1].toString(), new X509Certificate(oldRoot).toString());

    const again = await api('POST', '/api/admin/ca/rotate', { mode: 'generate', overlapDays: 5 });
    assert.equal(again.status, 409);
    assert.equal(again.json().code, 'CA_ROTATION_IN_PROGRESS');

    const [audit] = await db.query("SELECT actor FROM audit_events WHERE action = 'ca.rotated'");
    assert.equal(audit.actor, 'admin:admin');
  });

  test('openssl verify: chains from before and after the rotation verify against either root during the overlap', async () => {
    const newRoot = overview.active.certificatePem;
    const newByOld = overview.crossCertificates.find((c) => c.subjectKeyId === overview.active.keyId);
    const oldByNew = overview.crossCertificates.find((c) => c.subjectKeyId === overview.previous?.keyId);
    assert.ok(newByOld && oldByNew);
    write('new-root.pem', newRoot);
    write('pre-via-new.pem', pre.certs[1].toString() + oldByNew.certificatePem);

    // Before the rotation: old root directly; new root through old-by-new.
    await opensslOk(['verify', '-CAfile', 'old-root.pem', '-untrusted', 'pre-account.pem', 'pre-device.pem']);
    await opensslOk(['verify', '-CAfile', 'new-root.pem', '-untrusted', 'pre-via-new.pem', 'pre-device.pem']);
    const direct = await openssl([
      'verify',
      '-CAfile',
      'new-root.pem',
      '-untrusted',
      'pre-account.pem',
      'pre-device.pem',
    ]);
    assert.notEqual(direct.code, 0, 'without the cross certificate the old chain does not reach the new root');

    // After: a new enrollment chains device → account (re-issued under the new CA) → new CA.
    post = await enrollOk(server, 'alice', 'alice-password');
    assert.equal(post.certs.length, 3);
    assert.equal(post.certs[2].toString(), new X509Certificate(newRoot).toString());
    assert.equal(post.certs[1].issuer, new X509Certificate(newRoot).subject);
    assert.ok(post.certs[1].publicKey.equals(pre.certs[1].publicKey), 'same account key (same Jami ID)');
    write('post-device.pem', post.certs[0].toString());
    write('post-account.pem', post.certs[1].toString());
    write('post-via-old.pem', post.certs[1].toString() + newByOld.certificatePem);
    await opensslOk(['verify', '-CAfile', 'new-root.pem', '-untrusted', 'post-account.pem', 'post-device.pem']);
    await opensslOk(['verify', '-CAfile', 'old-root.pem', '-untrusted', 'post-via-old.pem', 'post-device.pem']);
    // The device certificate issued before the rotation chains through the re-issued account certificate too.
    await opensslOk(['verify', '-CAfile', 'new-root.pem', '-untrusted', 'post-account.pem', 'pre-device.pem']);

    // The bundle served by /api/ca is enough to verify either chain.
    write('bundle.pem', (await server.request('GET', '/api/ca')).text());
    await opensslOk(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'pre-account.pem', 'pre-device.pem']);
    await opensslOk(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'post-account.pem', 'post-device.pem']);
  });

  test('CRLs and OCSP answer for certificates of both CAs during the overlap', async () => {
    for (const keyId of [overview.active.keyId, overview.previous!.keyId]) {
      const res = await server.request('GET', `/api/crl/${keyId}`);
      assert.equal(res.status, 200);
      write(`${keyId}.crl`, res.body);
    }
    await opensslOk([
      'crl',
      '-inform',
      'DER',
      '-in',
      `${overview.previous!.keyId}.crl`,
      '-CAfile',
      'old-root.pem',
      '-noout',
    ]);
    await opensslOk([
      'crl',
      '-inform',
      'DER',
      '-in',
      `${overview.active.keyId}.crl`,
      '-CAfile',
      'new-root.pem',
      '-noout',
    ]);
    // The pre-rotation account certificate (old CA) is superseded, not revoked; the new one is good too.
    assert.match(await ocspStatus('old-root.pem', 'pre-account.pem'), /pre-account.pem: good/);
    assert.match(await ocspStatus('new-root.pem', 'post-account.pem'), /post-account.pem: good/);
    assert.match(await ocspStatus('post-account.pem', 'pre-device.pem'), /pre-device.pem: good/);
    // Devices enrolled before the rotation still log in.
    assert.equal((await deviceLogin(server, pre)).status, 200);
  });

  test('after the overlap (openssl -attime) the cross certificates have expired: only the new root is left', async () => {
    const later = String(Math.floor((Date.parse(overview.previous!.overlapUntil) + DAY_MS) / 1000));
    const crossed = await openssl([
      'verify',
      '-attime',
      later,
      '-CAfile',
      'old-root.pem',
      '-untrusted',
      'post-via-old.pem',
      'post-device.pem',
    ]);
    assert.notEqual(crossed.code, 0, crossed.out);
    await opensslOk([
      'verify',
      '-attime',
      later,
      '-CAfile',
      'new-root.pem',
      '-untrusted',
      'post-account.pem',
      'post-device.pem',
    ]);
  });

  test('POST /api/admin/ca/retire-previous stops serving the old CA and revokes what only it vouched for', async () => {
    const res = await api('POST', '/api/admin/ca/retire-previous');
    assert.equal(res.status, 200, res.text());
    assert.equal(res.json<{ retired: { keyId: string } }>().retired.keyId, overview.previous!.keyId);
    assert.ok(res.json<{ revoked: number }>().revoked >= 2);
    const bundle = (await server.request('GET', '/api/ca')).text();
    assert.equal(splitPem(bundle).length, 1);
    write('bundle-after.pem', bundle);
    const now = (await api('GET', '/api/admin/ca')).json<{ previous: unknown; crossCertificates: unknown[] }>();
    assert.equal(now.previous, null);
    assert.deepEqual(now.crossCertificates, []);

    // Only the new root verifies now: the pre-rotation account certificate is in the old CA's CRL.
    await opensslOk(['verify', '-CAfile', 'bundle-after.pem', '-untrusted', 'post-account.pem', 'post-device.pem']);
    const oldCrl = await server.request('GET', `/api/crl/${overview.previous!.keyId}`);
    write('old-after.crl', oldCrl.body);
    await opensslOk(['crl', '-inform', 'DER', '-in', 'old-after.crl', '-out', 'old-after.crl.pem']);
    const revoked = await openssl([
      'verify',
      '-crl_check',
      '-CAfile',
      'old-root.pem',
      '-CRLfile',
      'old-after.crl.pem',
      'pre-account.pem',
    ]);
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.out, /revoked/);
    assert.match(await ocspStatus('old-root.pem', 'pre-account.pem'), /pre-account.pem: revoked/);
    // Device certificates keep working: they chain through the re-issued account certificate.
    assert.equal((await deviceLogin(server, pre)).status, 200);
    const [audit] = await db.query("SELECT actor FROM audit_events WHERE action = 'ca.previous_retired'");
    assert.equal(audit.actor, 'admin:admin');
    const again = await api('POST', '/api/admin/ca/retire-previous');
    assert.equal(again.status, 409);
  });
});

describe('the scheduled renewal job', () => {
  async function runJob(data: Record<string, unknown>) {
    const queue = server.app.get(QueueService).queue(QueueName.Maintenance);
    const job = await queue.add('renew-certificates', data);
    const started = Date.now();
    let state = await job.getState();
    while (state !== 'completed' && state !== 'failed' && Date.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 100));
      state = await job.getState();
    }
    assert.equal(state, 'completed');
    return (await queue.getJob(job.id as string))?.returnvalue as Record<string, unknown>;
  }

  test('retires the previous CA once the overlap has ended and renews due certificates', async () => {
    const rotated = await api('POST', '/api/admin/ca/rotate', { mode: 'generate', algorithm: 'P-256', overlapDays: 2 });
    assert.equal(rotated.status, 201, rotated.text());
    const previousKeyId = rotated.json<{ ca: { previous: { keyId: string } } }>().ca.previous.keyId;
    assert.deepEqual(await runJob({}), { retiredPrevious: null, accounts: 0, devices: 0, skipped: 0 });

    // The overlap ends; a device certificate becomes due.
    await db.query("UPDATE certificate_authorities SET overlap_until = now() - interval '1 minute' WHERE key_id = $1", [
      previousKeyId,
    ]);
    const [due] = await db.query(
      'SELECT c.id FROM issued_certificates c JOIN devices d ON d.certificate_id = c.id WHERE d.revoked_at IS NULL AND c.revoked_at IS NULL LIMIT 1',
    );
    await db.query("UPDATE issued_certificates SET not_after = now() + interval '3 days' WHERE id = $1", [due.id]);
    const result = await runJob({});
    assert.equal(result.retiredPrevious, previousKeyId);
    assert.equal(result.devices, 1);
    const [old] = await db.query('SELECT superseded_by_id FROM issued_certificates WHERE id = $1', [due.id]);
    assert.ok(old.superseded_by_id);
    assert.equal(splitPem((await server.request('GET', '/api/ca')).text()).length, 1);
    const [audit] = await db.query(
      "SELECT actor FROM audit_events WHERE action = 'ca.previous_retired' ORDER BY id DESC LIMIT 1",
    );
    assert.equal(audit.actor, 'system:ca-renewal');
  });
});

test('rotation can import an existing CA (made by openssl) and refuses to import one twice', async () => {
  const { certFile, keyFile } = opensslSelfSigned(dir, 'imported-ca', {
    subject: '/CN=Imported Corp CA/O=Example Corp',
    ca: true,
    days: 400,
  });
  const certificatePem = fs.readFileSync(certFile, 'utf8');
  const privateKeyPem = fs.readFileSync(keyFile, 'utf8');
  const res = await api('POST', '/api/admin/ca/rotate', {
    mode: 'import',
    certificatePem,
    privateKeyPem,
    overlapDays: 7,
  });
  assert.equal(res.status, 201, res.text());
  const ca = res.json<{ ca: { active: { imported: boolean; subject: string; keyId: string } } }>().ca;
  assert.equal(ca.active.imported, true);
  // The imported CA expires in 400 days: longer lifetimes were shortened to fit it.
  const settings = (await api('GET', '/api/admin/ca/settings')).json<{ accountCertDays: number }>();
  assert.ok(settings.accountCertDays <= 400 && settings.accountCertDays >= 398, JSON.stringify(settings));
  assert.match(ca.active.subject, /CN=Imported Corp CA/);
  // The accounts now chain to the imported root.
  const alice = await enrollOk(server, 'alice', 'alice-password');
  write('imported-root.pem', certificatePem);
  write('imp-account.pem', alice.certs[1].toString());
  write('imp-device.pem', alice.certs[0].toString());
  await opensslOk(['verify', '-CAfile', 'imported-root.pem', '-untrusted', 'imp-account.pem', 'imp-device.pem']);

  assert.equal((await api('POST', '/api/admin/ca/retire-previous')).status, 200);
  const before = await snapshot();
  const twice = await api('POST', '/api/admin/ca/rotate', {
    mode: 'import',
    certificatePem,
    privateKeyPem,
    overlapDays: 7,
  });
  assert.equal(twice.status, 400);
  assert.equal(twice.json().code, 'CA_ROTATION_INVALID');
  assert.match(String(twice.json().message), /privateKeyPem/);
  assert.deepEqual(await snapshot(), before);
});
