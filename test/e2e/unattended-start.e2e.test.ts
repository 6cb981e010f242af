import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { opensslSelfSigned } from '../support/openssl';
import { stopTestPostgres } from '../support/postgres';
import { startTestServer } from '../support/server';

after(() => stopTestPostgres());

const adminEnv = {
  ENCLAVE_ADMIN_USER: 'root-admin',
  ENCLAVE_ADMIN_PASSWORD: 'first-start-password',
  ENCLAVE_ORG_NAME: 'Acme',
};

test('unattended first start creates the admin, the organization and a generated CA', async () => {
  const server = await startTestServer({ ...adminEnv, ENCLAVE_CA_ALGORITHM: 'P-256' });
  try {
    const info = (await server.request('GET', '/api/info')).json();
    assert.equal(info.setupRequired, false);
    assert.equal(info.organization, 'Acme');
    assert.equal((await server.request('GET', '/api/setup')).status, 404);
    const login = await server.request('POST', '/api/admin/login', {
      body: { username: 'root-admin', password: 'first-start-password' },
    });
    assert.equal(login.status, 200);
    const ca = new X509Certificate((await server.request('GET', '/api/ca')).text());
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  } finally {
    await server.close();
  }
});

test('ENCLAVE_CA_CERT / ENCLAVE_CA_KEY import an existing CA (files or inline PEM)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-ca-'));
  try {
    opensslSelfSigned(dir, 'ca', { subject: '/CN=Imported Root/O=Acme', key: 'rsa:2048', ca: true, days: 30 });
    const pem = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8');
    const server = await startTestServer({
      ...adminEnv,
      ENCLAVE_CA_CERT: path.join(dir, 'ca.pem'),
      ENCLAVE_CA_KEY: fs.readFileSync(path.join(dir, 'ca.key'), 'utf8'),
    });
    try {
      const served = (await server.request('GET', '/api/ca')).text();
      assert.equal(new X509Certificate(served).fingerprint256, new X509Certificate(pem).fingerprint256);
    } finally {
      await server.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a mismatched CA key stops the first start with CA_INVALID and stores nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-ca-'));
  try {
    for (const n of ['a', 'b']) {
      opensslSelfSigned(dir, n, { subject: `/CN=${n}`, ca: true, days: 30 });
    }
    await assert.rejects(
      startTestServer({
        ...adminEnv,
        ENCLAVE_CA_CERT: path.join(dir, 'a.pem'),
        ENCLAVE_CA_KEY: path.join(dir, 'b.key'),
      }),
      (err: Error & { code?: string; details?: { reason?: string } }) =>
        err.code === 'CA_INVALID' && err.details?.reason === 'CA_KEY_MISMATCH',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
