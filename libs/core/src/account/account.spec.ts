import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { TrustErrorCode } from '../trust/trust.errors';
import { testAccount, testCa, TestAccount, testDevice, TestDevice } from '../trust/pki-fixtures.test-helper';
import { exportPrivateKey, IdentityErrorCode, loadDeviceIdentity, loadPrivateKey } from './device-identity';
import { networkPolicy } from './policy';

let account: TestAccount;
let device: TestDevice;
let other: TestDevice;

before(async () => {
  account = await testAccount(await testCa());
  [device, other] = await Promise.all([testDevice(account), testDevice(account)]);
});

describe('loadDeviceIdentity', () => {
  test('loads an enrolled identity: chain, receipt and announcement agree', () => {
    const id = loadDeviceIdentity(device.files);
    assert.equal(id.accountId, account.jamiId);
    assert.equal(JSON.parse(id.receipt).dev, id.deviceShortId);
    assert.ok(id.announce.length > 0);
  });

  test('an encrypted key needs its passphrase', () => {
    const files = { ...device.files, privateKeyPem: exportPrivateKey(device.key, 'correct horse') };
    assert.match(files.privateKeyPem, /ENCRYPTED PRIVATE KEY/);
    assert.throws(() => loadDeviceIdentity(files), { code: IdentityErrorCode.KEY_LOCKED });
    assert.throws(() => loadDeviceIdentity(files, 'wrong'), { code: IdentityErrorCode.KEY_LOCKED });
    assert.equal(
      loadDeviceIdentity(files, 'correct horse').deviceShortId,
      loadDeviceIdentity(device.files).deviceShortId,
    );
    assert.equal(loadPrivateKey(files.privateKeyPem, 'correct horse').asymmetricKeyType, 'rsa');
  });

  test("refuses another device's key, a receipt of another device, a tampered receipt", () => {
    assert.throws(() => loadDeviceIdentity({ ...device.files, privateKeyPem: other.files.privateKeyPem }), {
      code: IdentityErrorCode.KEY_MISMATCH,
    });
    assert.throws(
      () =>
        loadDeviceIdentity({
          ...device.files,
          receipt: other.files.receipt,
          receiptSignature: other.files.receiptSignature,
        }),
      { code: IdentityErrorCode.RECEIPT_INVALID },
    );
    assert.throws(() => loadDeviceIdentity({ ...device.files, receipt: `${device.files.receipt} ` }), {
      code: IdentityErrorCode.RECEIPT_INVALID,
    });
  });

  test('refuses an expired identity', () => {
    assert.throws(() => loadDeviceIdentity(device.files, undefined, new Date(Date.now() + 40 * 365 * 86400_000)), {
      code: TrustErrorCode.CERTIFICATE_EXPIRED,
    });
  });
});

describe('networkPolicy', () => {
  test('maps the daemon keys: bootstrap list, DHT port, TURN relay, DHT proxy', () => {
    const p = networkPolicy({
      'Account.hostname': '127.0.0.1:4300; dht.example.org ;[::1]:4301',
      'Account.dhtPort': 4555,
      'TURN.enable': 'true',
      'TURN.server': 'turn.example.org',
      'TURN.username': 'u',
      'TURN.password': 'p',
      'Account.proxyEnabled': true,
      'Account.proxyServer': 'proxy.example.org:8080',
    });
    assert.deepEqual(p.bootstrap, ['127.0.0.1:4300', 'dht.example.org:4222', '[::1]:4301']);
    assert.equal(p.dhtPort, 4555);
    assert.deepEqual(p.iceServers, [
      { hostname: 'turn.example.org', port: 3478, username: 'u', password: 'p', relayType: 'TurnUdp' },
    ]);
    assert.equal(p.dhtProxy, 'proxy.example.org:8080');
    assert.deepEqual(p.notApplied, []);
  });

  test('the DHT proxy applies only when Account.proxyEnabled is true; unapplied settings are listed', () => {
    assert.equal(networkPolicy({ 'Account.proxyServer': 'proxy.example.org:8080' }).dhtProxy, undefined);
    assert.equal(
      networkPolicy({ 'Account.proxyEnabled': 'false', 'Account.proxyServer': 'proxy.example.org' }).dhtProxy,
      undefined,
    );
    assert.equal(networkPolicy({ 'Account.proxyEnabled': 'true', 'Account.proxyServer': ' ' }).dhtProxy, undefined);
    const p = networkPolicy({ 'Account.upnpEnabled': true, 'Account.bootstrapListUrl': 'https://x.example/list' });
    assert.equal(p.notApplied.length, 2);
    assert.match(p.notApplied.join('\n'), /upnpEnabled[\s\S]*bootstrapListUrl/);
  });

  test('TURN off and no bootstrap: nothing to apply', () => {
    const p = networkPolicy({ 'TURN.enable': false, 'TURN.server': 'turn.example.org', 'DHT.port': 0 });
    assert.deepEqual(p, { bootstrap: [], dhtPort: undefined, iceServers: [], dhtProxy: undefined, notApplied: [] });
  });
});
