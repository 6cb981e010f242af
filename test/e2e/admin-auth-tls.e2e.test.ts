import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { opensslSelfSigned } from '../support/openssl';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

after(() => stopTestPostgres());

/** Runs `openssl s_client` (asynchronously: the server runs in this process); the negotiated cipher or null. */
function sClient(server: TestServer, args: string[]): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.resume();
    child.on('error', reject);
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const match = /Cipher is (\S+)/.exec(out);
      resolve(code === 0 && match && match[1] !== '(NONE)' ? match[1] : null);
    });
    child.stdin.end();
  });
}

const handshake = (server: TestServer, cipher: string) =>
  sClient(server, ['-tls1_2', '-cipher', `${cipher}:@SECLEVEL=0`]);
const tls13 = (server: TestServer) => sClient(server, ['-tls1_3']);

async function assertAeadOnly(server: TestServer, kind: 'ECDSA' | 'RSA'): Promise<void> {
  for (const weak of [
    'AES128-SHA',
    'AES256-SHA256',
    'AES128-GCM-SHA256',
    `ECDHE-${kind}-AES128-SHA`,
    `ECDHE-${kind}-AES256-SHA384`,
    'DHE-RSA-AES128-SHA',
  ]) {
    assert.equal(await handshake(server, weak), null, `${weak} must be refused`);
  }
  assert.equal(await handshake(server, `ECDHE-${kind}-AES128-GCM-SHA256`), `ECDHE-${kind}-AES128-GCM-SHA256`);
  assert.equal(await handshake(server, `ECDHE-${kind}-CHACHA20-POLY1305`), `ECDHE-${kind}-CHACHA20-POLY1305`);
  assert.match((await tls13(server)) ?? '', /^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/);
}

test('TLS offers only AEAD suites with forward secrecy, before setup and after the certificate swap', async () => {
  const server = await startTestServer();
  try {
    await assertAeadOnly(server, 'ECDSA');
    await setUp(server);
    await assertAeadOnly(server, 'ECDSA');
  } finally {
    await server.close();
  }
});

test('with an RSA certificate from ENCLAVE_TLS_CERT/KEY, static-RSA and CBC suites are refused too', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-tls-'));
  const { certFile, keyFile } = opensslSelfSigned(dir, 'server', {
    subject: '/CN=127.0.0.1',
    key: 'rsa:2048',
    san: 'IP:127.0.0.1',
  });
  const server = await startTestServer({ ENCLAVE_TLS_CERT: certFile, ENCLAVE_TLS_KEY: keyFile });
  try {
    await assertAeadOnly(server, 'RSA');
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
