import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, verify as verifySignature } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { verifyDeviceAnnouncement } from '@enclave/core';
import { DataSource } from 'typeorm';
import { KeyPoolService } from '../../apps/server/src/modules/ca/key-pool.service';
import { basic, deviceLogin, deviceToken, enroll, enrollOk, makeDevice, spkiOf } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const run = promisify(execFile);
let server: TestServer;
let admin: string;
let dir: string;
const POLICY = { 'TURN.enable': true, 'TURN.server': 'turn.example.org:3478', 'Account.allModeratorsEnabled': true };

async function createUser(username: string, extra: Record<string, string> = {}) {
  const res = await server.request('POST', '/api/admin/users', {
    token: admin,
    body: { username, password: `${username}-password`, ...extra },
  });
  assert.equal(res.status, 201, res.text());
}

async function counts() {
  const ds = server.app.get(DataSource);
  const q = async (t: string) => (await ds.query(`SELECT count(*)::int AS n FROM ${t}`))[0].n as number;
  return {
    devices: await q('devices'),
    accounts: await q('accounts'),
    pool: await q('account_key_pool'),
    certs: await q('issued_certificates'),
  };
}

async function openssl(args: string[]) {
  return run('openssl', args, { cwd: dir }).then(
    (r) => r.stdout + r.stderr,
    (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
  );
}

before(async () => {
  server = await startTestServer({ ENCLAVE_DEFAULT_POLICY: JSON.stringify(POLICY), ENCLAVE_LOGIN_MAX_FAILURES: '50' });
  admin = await setUp(server);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-jams-'));
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
    await createUser(u, u === 'alice' ? { firstName: 'Alice', lastName: 'Martin', email: 'alice@example.org' } : {});
  }
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/auth/device', () => {
  test('answers a flat object of scalars: chain device→account→CA for the CSR key, signed receipt, announce with pk, name server, policy', async () => {
    // A pooled key is used for the first enrollment.
    await server.app.get(KeyPoolService).fill(1);
    const pooled = (await server.app.get(DataSource).query('SELECT public_key_pem FROM account_key_pool'))[0]
      .public_key_pem;
    const e = await enrollOk(server, 'alice', 'alice-password');
    for (const [k, v] of Object.entries(e.answer))
      assert.ok(['string', 'number', 'boolean'].includes(typeof v), `${k} is scalar`);

    const [deviceCert, accountCert, caCert] = e.certs;
    assert.equal(e.certs.length, 3);
    assert.ok(
      spkiOf(deviceCert.publicKey.export({ type: 'spki', format: 'pem' }).toString()).equals(spkiOf(e.device.keyPem)),
    );
    assert.ok(deviceCert.verify(accountCert.publicKey), 'device certificate signed by the account key');
    assert.ok(accountCert.verify(caCert.publicKey), 'account certificate signed by the CA');
    assert.ok(accountCert.ca && !deviceCert.ca);
    assert.equal(accountCert.publicKey.asymmetricKeyDetails?.modulusLength, 4096);
    assert.ok(
      spkiOf(accountCert.publicKey.export({ type: 'spki', format: 'pem' }).toString()).equals(spkiOf(pooled)),
      'the pooled key became the account key',
    );
    const jamiId = createHash('sha1')
      .update(spkiOf(accountCert.publicKey.export({ type: 'spki', format: 'pem' }).toString()))
      .digest('hex');
    assert.match(accountCert.subject, new RegExp(`UID=${jamiId}`));

    fs.writeFileSync(path.join(dir, 'chain.pem'), e.chainPem);
    fs.writeFileSync(path.join(dir, 'device.pem'), deviceCert.toString());
    fs.writeFileSync(path.join(dir, 'account.pem'), accountCert.toString());
    fs.writeFileSync(path.join(dir, 'ca.pem'), caCert.toString());
    assert.match(
      await openssl(['verify', '-CAfile', 'ca.pem', '-untrusted', 'account.pem', 'device.pem']),
      /device.pem: OK/,
    );
    const deviceText = await openssl(['x509', '-in', 'device.pem', '-noout', '-text']);
    assert.match(
      deviceText,
      new RegExp(`URI:https://127\\.0\\.0\\.1:8443/api/crl/${jamiId}`),
      'device certificates point to the account CRL',
    );
    const sealed = (await server.app.get(DataSource).query('SELECT private_key_sealed FROM accounts'))[0]
      .private_key_sealed;
    assert.ok(!String(sealed).includes('PRIVATE KEY'), 'account keys are encrypted at rest');

    const receipt = JSON.parse(String(e.answer.deviceReceipt));
    assert.equal(receipt.id, jamiId);
    assert.equal(receipt.dev, e.device.shortId);
    assert.ok(
      verifySignature(
        'sha512',
        Buffer.from(String(e.answer.deviceReceipt)),
        accountCert.publicKey,
        Buffer.from(String(e.answer.receiptSignature), 'base64'),
      ),
      'receiptSignature: RSA SHA-512 by the account key over the exact receipt bytes',
    );
    const announce = verifyDeviceAnnouncement(Buffer.from(receipt.announce, 'base64'));
    assert.equal(announce.accountId, jamiId);
    assert.equal(announce.deviceShortId, e.device.shortId);
    assert.equal(announce.deviceId, e.device.deviceId);

    assert.equal(e.answer.nameServer, '/api/nameserver');
    assert.equal(e.answer['Account.displayName'], 'Alice Martin');
    assert.equal(e.answer['TURN.enable'], true);
    assert.equal(e.answer['TURN.server'], 'turn.example.org:3478');
    assert.equal(e.answer['Account.allModeratorEnabled'], true, 'both spellings are sent');
    assert.equal(e.answer['Account.allModeratorsEnabled'], true);
    assert.ok(!('Account.proxyEnabled' in e.answer), 'keys the organization did not set are not sent');

    const profile = (await server.request('GET', '/api/admin/users/alice', { token: admin })).json<{
      jamiId: string;
      devices: { deviceId: string }[];
    }>();
    assert.equal(profile.jamiId, jamiId);
    assert.deepEqual(
      profile.devices.map((d: { deviceId: string }) => d.deviceId),
      [e.device.deviceId],
    );
  });

  test('a second device reuses the account; a trailing-slash manager URI (//api/...) works', async () => {
    const first = await enrollOk(server, 'bob', 'bob-password');
    const device = makeDevice();
    const res = await server.request('POST', '//api/auth/device', {
      body: { csr: device.csrPem, deviceName: 'phone' },
      headers: { authorization: basic('bob', 'bob-password') },
    });
    assert.equal(res.status, 200, res.text());
    const second = res.json<Record<string, string>>();
    assert.equal(JSON.parse(second.deviceReceipt).id, JSON.parse(String(first.answer.deviceReceipt)).id);
  });

  test('bad input gets the right status, a code naming the problem, and writes nothing', async () => {
    await enrollOk(server, 'carol', 'carol-password');
    const carolDevice = makeDevice();
    await enrollOk(server, 'carol', 'carol-password', carolDevice);
    await server.app.get(KeyPoolService).fill(1);
    const before = await counts();
    const good = makeDevice();
    const tampered = (() => {
      const d = makeDevice();
      const b64 = d.csrPem
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'))
        .join('');
      const der = Buffer.from(b64, 'base64');
      der[der.length - 5] ^= 0xff;
      return {
        ...d,
        csrPem: `-----BEGIN NEW CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END NEW CERTIFICATE REQUEST-----\n`,
      };
    })();
    const cases: [string, () => Promise<{ status: number; json(): Record<string, unknown> }>, number, string][] = [
      ['wrong password', () => enroll(server, 'dave', 'not-the-password', good), 401, 'INVALID_CREDENTIALS'],
      ['unknown user', () => enroll(server, 'nobody', 'whatever-password', good), 401, 'INVALID_CREDENTIALS'],
      [
        'no credentials',
        () => server.request('POST', '/api/auth/device', { body: { csr: good.csrPem } }),
        401,
        'UNAUTHENTICATED',
      ],
      [
        'malformed JSON',
        () =>
          server.request('POST', '/api/auth/device', {
            body: '{"csr": ',
            headers: { authorization: basic('dave', 'dave-password') },
          }),
        400,
        'BODY_INVALID',
      ],
      [
        'oversized body',
        () =>
          server.request('POST', '/api/auth/device', {
            body: { csr: 'x'.repeat(300_000) },
            headers: { authorization: basic('dave', 'dave-password') },
          }),
        413,
        'BODY_TOO_LARGE',
      ],
      [
        'missing csr',
        () =>
          server.request('POST', '/api/auth/device', {
            body: { deviceName: 'x' },
            headers: { authorization: basic('dave', 'dave-password') },
          }),
        400,
        'VALIDATION_FAILED',
      ],
      ['CSR not PEM', () => enroll(server, 'dave', 'dave-password', { ...good, csrPem: 'hello' }), 400, 'CSR_INVALID'],
      ['CSR bad signature', () => enroll(server, 'dave', 'dave-password', tampered), 400, 'CSR_SIGNATURE_INVALID'],
      ['1024-bit key', () => enroll(server, 'dave', 'dave-password', makeDevice(1024)), 400, 'CSR_KEY_TOO_WEAK'],
      [
        'exponent 3',
        () => enroll(server, 'dave', 'dave-password', makeDevice(2048, { exponent: 3 })),
        400,
        'CSR_KEY_EXPONENT',
      ],
      [
        "another user's device key",
        () => enroll(server, 'dave', 'dave-password', carolDevice),
        409,
        'DEVICE_KEY_IN_USE',
      ],
    ];
    for (const [name, call, status, code] of cases) {
      const res = await call();
      assert.equal(res.status, status, name);
      assert.equal(res.json().code, code, name);
      assert.equal(typeof res.json().message, 'string');
    }
    assert.deepEqual(await counts(), before, 'no device row, no account, no pooled key consumed, no certificate');
  });

  test('concurrent first enrollments of one user create exactly one account key', async () => {
    const devices = Array.from({ length: 4 }, () => makeDevice());
    const results = await Promise.all(devices.map((d) => enroll(server, 'erin', 'erin-password', d)));
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200],
    );
    const ids = new Set(results.map((r) => JSON.parse(r.json<Record<string, string>>().deviceReceipt).id));
    assert.equal(ids.size, 1);
    const ds = server.app.get(DataSource);
    const rows = await ds.query(
      "SELECT count(*)::int AS n FROM accounts a JOIN users u ON u.id = a.user_id WHERE u.username = 'erin'",
    );
    assert.equal(rows[0].n, 1);
  });
});

describe('tokens, sync, directory and revocation', () => {
  test('mTLS login gives a DEVICE token with an integer expires_in; Basic gives USER; bad Basic is 403; nothing is 401', async () => {
    const e = await enrollOk(server, 'frank', 'frank-password');
    const dev = await deviceLogin(server, e);
    assert.equal(dev.status, 200, dev.text());
    const t = dev.json<{ access_token: string; expires_in: unknown; scope: string }>();
    assert.equal(t.scope, 'DEVICE');
    assert.ok(Number.isInteger(t.expires_in) && (t.expires_in as number) > 0);
    const user = await server.request('POST', '/api/login', {
      body: '{}',
      headers: { authorization: basic('frank', 'frank-password') },
    });
    assert.equal(user.json().scope, 'USER');
    const bad = await server.request('POST', '/api/login', {
      body: '{}',
      headers: { authorization: basic('frank', 'wrong') },
    });
    assert.equal(bad.status, 403);
    assert.equal(bad.json().code, 'CREDENTIALS_REJECTED');
    const none = await server.request('POST', '/api/login', { body: '{}' });
    assert.equal(none.status, 401);
    // A certificate Enclave did not issue, for a key it never saw.
    const stranger = makeDevice();
    fs.writeFileSync(path.join(dir, 's.key'), stranger.keyPem);
    await openssl(['req', '-x509', '-key', 's.key', '-subj', '/CN=stranger', '-days', '1', '-out', 's.pem']);
    const unknown = await server.request('POST', '/api/login', {
      body: '{}',
      cert: fs.readFileSync(path.join(dir, 's.pem'), 'utf8'),
      key: stranger.keyPem,
    });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.json().code, 'DEVICE_UNKNOWN');
  });

  test('device list, policyData, contact/conversation merge and directory search behave as current clients expect', async () => {
    const laptop = await enrollOk(server, 'dave', 'dave-password');
    const phone = await enrollOk(server, 'dave', 'dave-password');
    const t1 = await deviceToken(server, laptop);
    const t2 = await deviceToken(server, phone);

    const devices = (await server.request('GET', '/api/auth/devices', { token: t1 })).json<
      { deviceId: string; alias: string; revoked: boolean }[]
    >();
    assert.deepEqual(
      devices.map((d) => [d.deviceId, d.revoked]).sort(),
      [
        [laptop.device.deviceId, false],
        [phone.device.deviceId, false],
      ].sort(),
    );
    for (const d of devices) assert.match(d.deviceId, /^[0-9a-f]{64}$/);

    const policy = (await server.request('GET', '/api/auth/policyData', { token: t1 })).json();
    assert.equal(policy['TURN.server'], 'turn.example.org:3478');
    for (const v of Object.values(policy)) assert.notEqual(typeof v, 'object');

    const peer = 'a'.repeat(40);
    const other = 'b'.repeat(40);
    let merged = (
      await server.request('POST', '/api/auth/contacts', {
        token: t1,
        body: [{ uri: peer, added: 1000, confirmed: true }],
      })
    ).json<unknown[]>();
    assert.deepEqual(merged, [{ uri: peer, added: 1000, confirmed: true }]);
    // The phone removed the contact later and knows another one: newer wins, union kept.
    merged = (
      await server.request('POST', '/api/auth/contacts', {
        token: t2,
        body: [
          { uri: peer, added: 1000, removed: 2000 },
          { uri: other, addedMs: 1_500_000 },
        ],
      })
    ).json();
    assert.deepEqual(merged, [
      { uri: peer, added: 1000, removed: 2000 },
      { uri: other, addedMs: 1_500_000 },
    ]);
    // A stale entry does not override.
    merged = (
      await server.request('POST', '/api/auth/contacts', { token: t1, body: [{ uri: peer, added: 1000 }] })
    ).json();
    assert.deepEqual(merged[0], { uri: peer, added: 1000, removed: 2000 });
    const badSync = await server.request('POST', '/api/auth/contacts', { token: t1, body: [{ uri: 'zz' }] });
    assert.equal(badSync.status, 400);
    assert.equal(badSync.json().code, 'BODY_INVALID');

    const convs = (
      await server.request('POST', '/api/auth/conversations', {
        token: t1,
        body: [{ id: 'c0ffee', created: 10, members: [{ uri: peer }] }],
      })
    ).json<unknown[]>();
    assert.equal(convs.length, 1);
    const reqs = (
      await server.request('POST', '/api/auth/conversationRequests', {
        token: t2,
        body: [{ conversationId: 'c1', from: peer, received: 5, metadatas: { title: 'x' } }],
      })
    ).json<unknown[]>();
    assert.deepEqual(reqs, [{ conversationId: 'c1', from: peer, received: 5, metadatas: { title: 'x' } }]);
    // Sync data is per user.
    const frank = await enrollOk(server, 'frank', 'frank-password');
    const ft = await deviceToken(server, frank);
    assert.deepEqual((await server.request('POST', '/api/auth/contacts', { token: ft, body: [] })).json(), []);

    const search = (await server.request('GET', '/api/auth/directory/search?queryString=mart', { token: t1 })).json<{
      profiles: Record<string, unknown>[];
    }>();
    assert.equal(search.profiles.length, 1);
    assert.equal(search.profiles[0].username, 'alice');
    assert.match(String(search.profiles[0].id), /^[0-9a-f]{40}$/);
    for (const v of Object.values(search.profiles[0])) assert.equal(typeof v, 'string');
    const all = (await server.request('GET', '/api/auth/directory/search?queryString=*', { token: t1 })).json<{
      profiles: unknown[];
    }>();
    assert.ok(all.profiles.length >= 5);
    assert.equal((await server.request('GET', '/api/auth/devices')).status, 401);
  });

  test('the name server resolves every enrolled user both ways, case-insensitively, without auth', async () => {
    const alice = (await server.request('GET', '/api/admin/users/alice', { token: admin })).json();
    const byName = await server.request('GET', '/api/nameserver/name/ALICE', { headers: { 'user-agent': 'JamiDHT' } });
    assert.equal(byName.status, 200);
    assert.deepEqual(byName.json(), { name: 'alice', addr: alice.jamiId });
    const byAddr = await server.request('GET', `/api/nameserver/addr/${alice.jamiId}`);
    assert.equal(byAddr.status, 200);
    assert.deepEqual(byAddr.json(), { name: 'alice' });
    for (const p of [
      '/api/nameserver/name/nobody',
      '/api/nameserver/addr/' + '0'.repeat(40),
      '/api/nameserver/addr/xyz',
      '/api/nameserver/name/has%20space',
    ]) {
      const res = await server.request('GET', p);
      assert.equal(res.status, 404, p);
      assert.match(String(res.json().code), /NOT_FOUND/);
    }
  });

  test('admin revocation of a device: CRL and OCSP say revoked, its login gets 401, the list flags it', async () => {
    const e = await enrollOk(server, 'bob', 'bob-password');
    assert.equal((await deviceLogin(server, e)).status, 200);
    const token = await deviceToken(server, e);
    const [deviceCert, accountCert, caCert] = e.certs;
    const jamiId = JSON.parse(String(e.answer.deviceReceipt)).id;
    fs.writeFileSync(path.join(dir, 'bob-device.pem'), deviceCert.toString());
    fs.writeFileSync(path.join(dir, 'bob-account.pem'), accountCert.toString());
    fs.writeFileSync(path.join(dir, 'bob-ca.pem'), caCert.toString());
    const ocsp = () =>
      openssl([
        'ocsp',
        '-issuer',
        'bob-account.pem',
        '-cert',
        'bob-device.pem',
        '-url',
        `https://127.0.0.1:${server.port}/api/ocsp`,
        '-CAfile',
        'bob-ca.pem',
        '-VAfile',
        'bob-account.pem',
      ]);
    assert.match(await ocsp(), /bob-device.pem: good/);
    assert.match(deviceCert.infoAccess ?? '', /OCSP - URI:https:\/\/127\.0\.0\.1:8443\/api\/ocsp/);

    const res = await server.request('DELETE', `/api/admin/users/bob/devices/${e.device.deviceId}`, { token: admin });
    assert.equal(res.status, 200, res.text());
    assert.ok(res.json().revokedAt);

    assert.match(await ocsp(), /bob-device.pem: revoked/);
    const crl = await server.request('GET', `/api/crl/${jamiId}`);
    fs.writeFileSync(path.join(dir, 'bob.crl'), crl.body);
    const text = await openssl([
      'crl',
      '-inform',
      'DER',
      '-in',
      'bob.crl',
      '-CAfile',
      'bob-account.pem',
      '-noout',
      '-verify',
      '-text',
    ]);
    assert.match(text, /verify OK/);
    assert.match(text.toLowerCase(), new RegExp(deviceCert.serialNumber.toLowerCase().replace(/^0+/, '')));

    const login = await deviceLogin(server, e);
    assert.equal(login.status, 401);
    assert.equal(login.json().code, 'DEVICE_REVOKED');
    assert.equal(
      (await server.request('GET', '/api/auth/devices', { token })).status,
      401,
      'its existing token stops working',
    );
    const userToken = (
      await server.request('POST', '/api/login', {
        body: '{}',
        headers: { authorization: basic('bob', 'bob-password') },
      })
    ).json<{ access_token: string }>().access_token;
    const list = (await server.request('GET', '/api/auth/devices', { token: userToken })).json<
      { deviceId: string; revoked: boolean }[]
    >();
    assert.equal(list.find((d) => d.deviceId === e.device.deviceId)?.revoked, true);
    const missing = await server.request('DELETE', `/api/admin/users/bob/devices/${'f'.repeat(64)}`, { token: admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.json().code, 'DEVICE_NOT_FOUND');
  });

  test('a user revokes their own device with a USER token; a DEVICE token may not', async () => {
    const e = await enrollOk(server, 'carol', 'carol-password');
    const devTok = await deviceToken(server, e);
    const refused = await server.request('DELETE', `/api/auth/device/${e.device.deviceId}`, { token: devTok });
    assert.equal(refused.status, 403);
    const userTok = (
      await server.request('POST', '/api/login', {
        body: '{}',
        headers: { authorization: basic('carol', 'carol-password') },
      })
    ).json<{ access_token: string }>().access_token;
    const ok = await server.request('DELETE', `/api/auth/device/${e.device.deviceId}`, { token: userTok });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { success: true });
    assert.equal((await deviceLogin(server, e)).status, 401);
  });

  test('revoking an account revokes its certificate and devices, suspends the user and removes their name', async () => {
    const e = await enrollOk(server, 'erin', 'erin-password');
    const caId = createHash('sha1')
      .update(spkiOf(e.certs[2].publicKey.export({ type: 'spki', format: 'pem' }).toString()))
      .digest('hex');
    const res = await server.request('POST', '/api/admin/users/erin/revoke', { token: admin });
    assert.equal(res.status, 200, res.text());
    assert.ok(res.json<{ devicesRevoked: number }>().devicesRevoked >= 1);
    assert.equal((await deviceLogin(server, e)).status, 401);
    const crl = await server.request('GET', `/api/crl/${caId}`);
    fs.writeFileSync(path.join(dir, 'ca.crl'), crl.body);
    const text = await openssl(['crl', '-inform', 'DER', '-in', 'ca.crl', '-noout', '-text']);
    assert.match(text.toLowerCase(), new RegExp(e.certs[1].serialNumber.toLowerCase().replace(/^0+/, '')));
    const again = await enroll(server, 'erin', 'erin-password', makeDevice());
    assert.equal(again.status, 403);
    assert.equal(again.json().code, 'USER_SUSPENDED');
    assert.equal((await server.request('GET', '/api/nameserver/name/erin')).status, 404);
  });
});
