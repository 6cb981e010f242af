import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, test } from 'node:test';
import { opensslSelfSigned } from '../support/openssl';
import { stopTestPostgres } from '../support/postgres';
import { startTestServer } from '../support/server';

after(() => stopTestPostgres());

function presentedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerX509Certificate();
      socket.end();
      if (raw) resolve(raw);
      else reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

test('ENCLAVE_TLS_CERT / ENCLAVE_TLS_KEY replace the CA-issued HTTPS certificate', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-tls-'));
  try {
    opensslSelfSigned(dir, 'tls', { subject: '/CN=enclave.example.org', san: 'DNS:enclave.example.org' });
    const server = await startTestServer({
      ENCLAVE_TLS_CERT: path.join(dir, 'tls.pem'),
      ENCLAVE_TLS_KEY: path.join(dir, 'tls.key'),
      ENCLAVE_ADMIN_USER: 'admin',
      ENCLAVE_ADMIN_PASSWORD: 'tls-files-password',
      ENCLAVE_CA_ALGORITHM: 'P-256',
    });
    try {
      const cert = await presentedCertificate(server.port);
      assert.equal(cert.subject, 'CN=enclave.example.org');
      const caPem = (await server.request('GET', '/api/ca')).text();
      assert.notEqual(cert.issuer, new X509Certificate(caPem).subject, 'not issued by the org CA');
      const docs = await server.request('GET', '/api/docs/openapi.json');
      assert.equal(docs.status, 200);
      assert.equal(docs.json<{ info: { title: string } }>().info.title, 'Enclave');
      const ui = await server.request('GET', '/api/docs');
      assert.equal(ui.status, 200);
      assert.match(ui.text(), /swagger/i);
    } finally {
      await server.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
