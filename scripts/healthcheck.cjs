#!/usr/bin/env node
// Container health checks (Dockerfile HEALTHCHECK, docker-compose.yml).
//   node scripts/healthcheck.cjs server  -> GET https://127.0.0.1:$ENCLAVE_PORT/healthz must answer 200
//   node scripts/healthcheck.cjs worker  -> the worker process runs and reaches PostgreSQL and Redis
'use strict';
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');

const fail = (why) => {
  process.stderr.write(`unhealthy: ${why}\n`);
  process.exit(1);
};

function reach(urlText, defaultPort) {
  return new Promise((resolve, reject) => {
    const u = new URL(urlText);
    const s = net.connect({ host: u.hostname, port: Number(u.port || defaultPort) }, () => {
      s.destroy();
      resolve();
    });
    s.setTimeout(3000, () => s.destroy(new Error(`timeout connecting to ${u.hostname}`)));
    s.once('error', reject);
  });
}

async function main() {
  const mode = process.argv[2] ?? 'server';
  if (mode === 'server') {
    const port = process.env.ENCLAVE_PORT || '8443';
    const status = await new Promise((resolve, reject) => {
      const req = https.get(
        `https://127.0.0.1:${port}/healthz`,
        { rejectUnauthorized: false, timeout: 4000 },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', reject);
    });
    if (status !== 200) fail(`/healthz answered ${status}`);
    return;
  }
  if (mode === 'worker') {
    const cmdlines = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      });
    if (!cmdlines.some((c) => c.includes('worker.ts'))) fail('no worker process');
    if (process.env.DATABASE_URL) await reach(process.env.DATABASE_URL, 5432);
    if (process.env.REDIS_URL) await reach(process.env.REDIS_URL, 6379);
    return;
  }
  fail(`unknown mode ${mode}`);
}

main().then(
  () => process.exit(0),
  (err) => fail(err.message),
);
