import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { keyId } from '@enclave/pki';
import { DataSource } from 'typeorm';
import { CaService } from '../../apps/server/src/modules/ca/ca.service';
import { opensslSelfSigned } from '../support/openssl';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const run = promisify(execFile);
let server: TestServer;
let dir: string;
let caPem: string;
let caFile: string;
let leafFile: string;
let leafSerial: string;

async function openssl(args: string[], input?: string) {
  const p = run('openssl', args, { cwd: dir, timeout: 30_000 });
  if (input !== undefined) p.child.stdin?.end(input);
  return p.then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
}

before(async () => {
  server = await startTestServer();
  await setUp(server, {
    organization: 'Example Corp',
    admin: { username: 'admin', password: 'admin-password-1' },
    ca: { mode: 'generate', algorithm: 'RSA-4096' },
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-openssl-'));
  caPem = (await server.request('GET', '/api/ca')).text();
  caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, caPem);
  const ds = server.app.get(DataSource);
  const [leaf] = await ds.query("SELECT certificate_pem, serial_number FROM issued_certificates WHERE kind = 'server'");
  leafFile = path.join(dir, 'server.pem');
  fs.writeFileSync(leafFile, leaf.certificate_pem);
  leafSerial = leaf.serial_number;
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('openssl s_client verifies the HTTPS certificate against the org CA, IP address included', async () => {
  const r = await openssl(
    [
      's_client',
      '-connect',
      `127.0.0.1:${server.port}`,
      '-CAfile',
      caFile,
      '-verify_ip',
      '127.0.0.1',
      '-verify_return_error',
      '-brief',
    ],
    '',
  );
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Verification: OK/);
  // The server asked for an optional client certificate (device login needs it).
  const withList = await openssl(['s_client', '-connect', `127.0.0.1:${server.port}`, '-CAfile', caFile], '');
  // s_client prints the requested signature algorithms only when the server sent a CertificateRequest.
  assert.match(withList.out, /Requested Signature Algorithms/);
});

test('the CA CRL served at /api/crl/{issuer} verifies with openssl crl and grows on revocation', async () => {
  const caId = keyId(caPem);
  const first = await server.request('GET', `/api/crl/${caId}`);
  assert.equal(first.status, 200);
  assert.equal(first.headers['content-type'], 'application/pkix-crl');
  fs.writeFileSync(path.join(dir, 'crl1.der'), first.body);
  const v1 = await openssl(['crl', '-inform', 'DER', '-in', 'crl1.der', '-CAfile', caFile, '-noout', '-verify']);
  assert.equal(v1.code, 0, v1.out);
  assert.match(v1.out, /verify OK/);
  const t1 = await openssl(['crl', '-inform', 'DER', '-in', 'crl1.der', '-noout', '-text']);
  assert.match(t1.out, /No Revoked Certificates/);

  // OCSP says good before revocation.
  const good = await ocspQuery();
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, new RegExp(`${leafFile}: good`));
  assert.match(good.out, /Response verify OK/);

  await server.app.get(CaService).revoke(caId, leafSerial, 'keyCompromise');

  const second = await server.request('GET', `/api/crl/${caId}`);
  fs.writeFileSync(path.join(dir, 'crl2.der'), second.body);
  const t2 = await openssl([
    'crl',
    '-inform',
    'DER',
    '-in',
    'crl2.der',
    '-CAfile',
    caFile,
    '-noout',
    '-verify',
    '-text',
  ]);
  assert.match(t2.out, /verify OK/);
  assert.match(t2.out.toLowerCase(), new RegExp(`serial number: 0*${leafSerial.replace(/^0+/, '')}\\b`));
  assert.match(t2.out, /Key Compromise/);
  const num = (text: string) => Number(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(text)?.[1]);
  assert.equal(num(t2.out), num(t1.out) + 1);

  const revoked = await ocspQuery();
  assert.match(revoked.out, new RegExp(`${leafFile}: revoked`));
  assert.match(revoked.out, /Reason: keyCompromise/);
});

test('the OCSP responder answers garbage with malformedRequest and unknown issuers with unauthorized', async () => {
  const garbage = await server.request('POST', '/api/ocsp', {
    rawBody: Buffer.from('not der'),
    contentType: 'application/ocsp-request',
  });
  assert.equal(garbage.status, 200);
  fs.writeFileSync(path.join(dir, 'garbage.der'), garbage.body);
  const g = await openssl(['ocsp', '-respin', 'garbage.der', '-resp_text', '-noverify']);
  assert.match(g.out, /malformedrequest/i);

  // A certificate from an unrelated CA.
  opensslSelfSigned(dir, 'other', { subject: '/CN=Other', days: 1 });
  const req = await openssl(['ocsp', '-issuer', 'other.pem', '-cert', 'other.pem', '-reqout', 'other.req']);
  assert.equal(req.code, 0, req.out);
  const res = await server.request('POST', '/api/ocsp', {
    rawBody: fs.readFileSync(path.join(dir, 'other.req')),
    contentType: 'application/ocsp-request',
  });
  fs.writeFileSync(path.join(dir, 'other.resp'), res.body);
  const u = await openssl(['ocsp', '-respin', 'other.resp', '-resp_text', '-noverify']);
  assert.match(u.out, /unauthorized/i);
  assert.ok(new X509Certificate(caPem).ca);
});

function ocspQuery() {
  return openssl([
    'ocsp',
    '-issuer',
    caFile,
    '-cert',
    leafFile,
    '-url',
    `https://127.0.0.1:${server.port}/api/ocsp`,
    '-CAfile',
    caFile,
    '-resp_text',
  ]);
}
