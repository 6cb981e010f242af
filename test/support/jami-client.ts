import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestResponse, TestServer } from './server';

/** A device as a Jami client makes one: its own RSA key and a CSR "CN=Jami device, UID=<sha1 key id>". */
export interface TestDevice {
  keyPem: string;
  csrPem: string;
  /** SHA-256 of the SPKI, 64 hex. */
  deviceId: string;
  /** SHA-1 of the SPKI, 40 hex. */
  shortId: string;
}

export function makeDevice(bits = 2048, opts: { exponent?: number } = {}): TestDevice {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: opts.exponent ?? 65537,
  });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const shortId = createHash('sha1').update(spki).digest('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-csr-'));
  try {
    fs.writeFileSync(path.join(dir, 'k.pem'), keyPem);
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-key',
        path.join(dir, 'k.pem'),
        '-sha384',
        '-subj',
        `/CN=Jami device/UID=${shortId}`,
        '-out',
        path.join(dir, 'r.csr'),
      ],
      {
        stdio: 'ignore',
      },
    );
    // gnutls writes the "NEW CERTIFICATE REQUEST" header; so do we, as the daemon does.
    const csrPem = fs
      .readFileSync(path.join(dir, 'r.csr'), 'utf8')
      .replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST');
    return { keyPem, csrPem, deviceId: createHash('sha256').update(spki).digest('hex'), shortId };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** POST /api/auth/device exactly as the daemon sends it (JsonCpp styled body, Basic auth). */
export function enroll(
  server: TestServer,
  user: string,
  password: string,
  device: TestDevice,
  deviceName = 'laptop',
): Promise<TestResponse> {
  const body = `{\n\t"csr" : ${JSON.stringify(device.csrPem)},\n\t"deviceName" : ${JSON.stringify(deviceName)}\n}`;
  return server.request('POST', '/api/auth/device', {
    body,
    headers: { authorization: basic(user, password), 'user-agent': 'Jami' },
  });
}

export interface Enrolled {
  device: TestDevice;
  chainPem: string;
  answer: Record<string, unknown>;
  certs: X509Certificate[];
}

export function splitPem(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
}

export async function enrollOk(
  server: TestServer,
  user: string,
  password: string,
  device = makeDevice(),
): Promise<Enrolled> {
  const res = await enroll(server, user, password, device);
  if (res.status !== 200) throw new Error(`enrollment failed: ${res.status} ${res.text()}`);
  const answer = res.json<Record<string, unknown>>();
  const chainPem = String(answer.certificateChain);
  return { device, chainPem, answer, certs: splitPem(chainPem) };
}

/** POST /api/login with the device's TLS client certificate (mTLS), as the daemon does for a DEVICE token. */
export function deviceLogin(server: TestServer, e: Enrolled): Promise<TestResponse> {
  return server.request('POST', '/api/login', { body: '{}', cert: e.chainPem, key: e.device.keyPem });
}

export async function deviceToken(server: TestServer, e: Enrolled): Promise<string> {
  const res = await deviceLogin(server, e);
  if (res.status !== 200) throw new Error(`device login failed: ${res.status} ${res.text()}`);
  return res.json<{ access_token: string }>().access_token;
}

export const spkiOf = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
