import { createPrivateKey, sign } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateKeyPair } from '@enclave/pki';
import { KeyPoolService } from '../apps/server/src/modules/ca/key-pool.service';
import { TlsService } from '../apps/server/src/modules/ca/tls.service';
import { enroll, makeDevice, TestDevice } from '../test/support/jami-client';
import { stopTestPostgres } from '../test/support/postgres';
import { setUp, startTestServer } from '../test/support/server';
import { BenchFigure, figure, httpLoad, rate } from './harness';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENTS = 32;

/**
 * Enrollments per second (POST /api/auth/device, 32 concurrent clients, account keys pooled beforehand)
 * against the raw RSA-4096 signing rate, and name lookups per second against a bare node:https server
 * answering the same JSON, both measured in this run.
 */
export async function run(): Promise<BenchFigure[]> {
  const server = await startTestServer({ ENCLAVE_KEY_POOL_SIZE: '0', ENCLAVE_LOGIN_MAX_FAILURES: '1000' });
  try {
    const admin = await setUp(server, {
      organization: 'Bench Corp',
      admin: { username: 'admin', password: 'bench-admin-password' },
      ca: { mode: 'generate', algorithm: 'RSA-4096' },
    });
    for (let i = 0; i < CLIENTS; i++) {
      await server.request('POST', '/api/admin/users', {
        token: admin,
        body: { username: `user${i}`, password: `password-${i}` },
      });
    }
    // One pooled RSA-4096 account key per user: first enrollments cost a signature, not a key generation.
    await server.app.get(KeyPoolService).fill(CLIENTS, 2);
    // Device keys: distinct per enrollment (RSA-2048 to keep set-up short; the server only verifies the CSR).
    const perClient = Math.max(4, Math.ceil((SECONDS * 40) / CLIENTS));
    const devices: TestDevice[][] = Array.from({ length: CLIENTS }, () =>
      Array.from({ length: perClient }, () => makeDevice()),
    );

    const key = createPrivateKey((await generateKeyPair('RSA-4096')).privateKeyPem);
    const tbs = Buffer.alloc(1400, 7);
    const rawSign = await rate(() => sign('sha256', tbs, key), SECONDS);

    let done = 0;
    let failed = 0;
    const start = performance.now();
    const end = start + SECONDS * 1000;
    await Promise.all(
      devices.map(async (list, c) => {
        for (const d of list) {
          if (performance.now() >= end) break;
          const res = await enroll(server, `user${c}`, `password-${c}`, d);
          if (res.status === 200) done++;
          else failed++;
        }
      }),
    );
    const enrollRate = done / ((performance.now() - start) / 1000);
    if (failed) throw new Error(`${failed} enrollments failed`);

    // Name lookups: Enclave vs a bare HTTPS server answering the same JSON.
    const caPem = (await server.request('GET', '/api/ca')).text();
    const names = await httpLoad(server.localUrl, {
      seconds: SECONDS,
      concurrency: CLIENTS,
      ca: caPem,
      path: (i) => `/api/nameserver/name/user${i % CLIENTS}`,
    });
    const answer = (await server.request('GET', '/api/nameserver/name/user0')).text();
    const tlsOptions = await server.app.get(TlsService).serverOptions();
    const bare = https.createServer({ cert: tlsOptions.cert, key: tlsOptions.key }, (_req, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(answer);
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
    const barePort = (bare.address() as AddressInfo).port;
    const bareRate = await httpLoad(`https://127.0.0.1:${barePort}`, {
      seconds: SECONDS,
      concurrency: CLIENTS,
      ca: caPem,
      path: (i) => `/name/user${i % CLIENTS}`,
    });
    bare.close();

    return [
      figure(
        'enrollments, POST /api/auth/device, 32 clients',
        enrollRate,
        'enrollments/s',
        { name: 'crypto.sign RSA-4096 loop (1 thread)', value: rawSign, unit: 'signatures/s' },
        'each: argon2id password check, CSR check, device certificate + receipt + announce signatures (3 RSA-4096), one transaction',
      ),
      figure(
        'name lookups, GET /api/nameserver/name/{n}, 32 keep-alive clients',
        names,
        'lookups/s',
        { name: 'bare node:https server, same JSON', value: bareRate, unit: 'requests/s' },
        'database lookup per request',
      ),
    ];
  } finally {
    await server.close();
    await stopTestPostgres();
  }
}
