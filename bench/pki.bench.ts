import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair, issueDeviceCertificate, SignerPem } from '@enclave/pki';
import { createCertificateAuthority, issueAccountCertificate } from '@enclave/pki';
import { BenchFigure, figure, rate } from './harness';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

/** Device-certificate issuance per second in one process vs. the raw RSA-4096 signing rate. */
export async function run(): Promise<BenchFigure[]> {
  const ca = await createCertificateAuthority({ commonName: 'Bench CA', algorithm: 'RSA-4096' });
  const accountKey = await generateKeyPair('RSA-4096');
  const account = await issueAccountCertificate({ ca, username: 'bench', accountKey });
  const signer: SignerPem = { certificatePem: account.certificatePem, privateKeyPem: accountKey.privateKeyPem };

  // CSRs as Jami clients send them: RSA-4096, gnutls-style header.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-bench-'));
  const csrs: string[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      execFileSync(
        'openssl',
        [
          'req',
          '-new',
          '-newkey',
          'rsa:4096',
          '-nodes',
          '-keyout',
          path.join(dir, `${i}.key`),
          '-out',
          path.join(dir, `${i}.csr`),
          '-subj',
          `/CN=Jami device/UID=${i}`,
        ],
        { stdio: 'ignore' },
      );
      csrs.push(
        fs.readFileSync(path.join(dir, `${i}.csr`), 'utf8').replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST'),
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Baseline: one RSA-4096 PKCS#1 v1.5 SHA-256 signature over a certificate-sized message, synchronous.
  const key = createPrivateKey(accountKey.privateKeyPem);
  const tbs = Buffer.alloc(1400, 7);
  const rawSign = await rate(() => sign('sha256', tbs, key), SECONDS);

  let n = 0;
  const issue = await rate(
    () => issueDeviceCertificate({ account: signer, csrPem: csrs[n++ % csrs.length], validityDays: 365 }),
    SECONDS,
  );
  // The same with as many issuances in flight as the thread pool has threads (webcrypto signs off-loop).
  const issueParallel = await rate(
    () => issueDeviceCertificate({ account: signer, csrPem: csrs[n++ % csrs.length], validityDays: 365 }),
    SECONDS,
    4,
  );
  const baseline = { name: 'crypto.sign RSA-4096 loop (1 thread)', value: rawSign, unit: 'signatures/s' };
  return [
    figure(
      'device certificate issuance, sequential',
      issue,
      'certificates/s',
      baseline,
      'CSR parse + signature check + X.509 signing',
    ),
    figure(
      'device certificate issuance, 4 in flight',
      issueParallel,
      'certificates/s',
      baseline,
      'uses the libuv thread pool (2 cores here)',
    ),
  ];
}
