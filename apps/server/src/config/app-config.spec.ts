import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './app-config';

test('loadConfig applies the documented defaults', () => {
  const c = loadConfig({});
  assert.equal(c.http.port, 8443);
  assert.equal(c.http.publicUrl, 'https://localhost:8443');
  assert.equal(c.http.publicHost, 'localhost');
  assert.equal(c.database.url, undefined);
  assert.match(c.database.dataDir, /\/data$/);
  assert.equal(c.database.skipMigrations, false);
  assert.equal(c.queue.redisUrl, undefined);
  assert.equal(c.queue.runWorkers, true);
  assert.equal(c.pki.caAlgorithm, 'RSA-4096');
  assert.equal(c.log.format, 'json');
});

test('loadConfig lists every bad variable at once', () => {
  try {
    loadConfig({ ENCLAVE_PORT: 'eighty', DATABASE_URL: 'mysql://x', ENCLAVE_MASTER_KEY: 'short', LOG_LEVEL: 'loud' });
    assert.fail('expected ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const vars = err.problems.map((p) => p.split(':')[0]).sort();
    assert.deepEqual(vars, ['DATABASE_URL', 'ENCLAVE_MASTER_KEY', 'ENCLAVE_PORT', 'LOG_LEVEL']);
    assert.match(err.message, /ENCLAVE_PORT: must be an integer between 0 and 65535/);
  }
});

test('loadConfig refuses half-given pairs and a short bootstrap password', () => {
  assert.throws(
    () => loadConfig({ ENCLAVE_TLS_CERT: '/x.pem', ENCLAVE_ADMIN_USER: 'admin', ENCLAVE_ADMIN_PASSWORD: 'short' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.includes('ENCLAVE_TLS_CERT and ENCLAVE_TLS_KEY: set both or neither') &&
      err.problems.includes('ENCLAVE_ADMIN_PASSWORD: must be at least 8 characters'),
  );
  assert.throws(
    () => loadConfig({ ENCLAVE_CA_CERT: 'a', ENCLAVE_CA_KEY: 'b' }),
    (err: unknown) => err instanceof ConfigError && /only be imported at unattended first start/.test(err.message),
  );
});

test('an IPv6 or IP public URL yields a bare host for the certificate', () => {
  assert.equal(loadConfig({ ENCLAVE_PUBLIC_URL: 'https://[::1]:9000' }).http.publicHost, '::1');
  assert.equal(loadConfig({ ENCLAVE_PUBLIC_URL: 'https://127.0.0.1:9000/' }).http.publicUrl, 'https://127.0.0.1:9000');
});

test('booleans accept 1/0/true/false and nothing else', () => {
  assert.equal(loadConfig({ ENCLAVE_SKIP_MIGRATIONS: '1' }).database.skipMigrations, true);
  assert.equal(loadConfig({ ENCLAVE_RUN_WORKERS: 'false' }).queue.runWorkers, false);
  assert.throws(() => loadConfig({ ENCLAVE_SKIP_MIGRATIONS: 'maybe' }), ConfigError);
});

test('ENCLAVE_DEFAULT_POLICY must be a JSON object of known Jami keys with the right types', () => {
  assert.deepEqual(loadConfig({ ENCLAVE_DEFAULT_POLICY: '{"TURN.enable":true}' }).policy.defaults, {
    'TURN.enable': true,
  });
  assert.throws(
    () => loadConfig({ ENCLAVE_DEFAULT_POLICY: '{"TLS.privateKeyFile":"/x","TURN.enable":"yes"}' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.includes(
        'ENCLAVE_DEFAULT_POLICY: TLS.privateKeyFile is not a Jami account setting an organization may set',
      ) &&
      err.problems.includes('ENCLAVE_DEFAULT_POLICY: TURN.enable must be true or false'),
  );
  assert.throws(() => loadConfig({ ENCLAVE_DEFAULT_POLICY: 'not json' }), /must be a JSON object/);
});
