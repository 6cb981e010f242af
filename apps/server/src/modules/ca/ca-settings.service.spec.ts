import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createCertificateAuthority, keyId } from '@enclave/pki';
import { DataSource } from 'typeorm';
import { createTestDatabase, stopTestPostgres, TestDatabase } from '../../../../../test/support/postgres';
import { AppError, ErrorCode } from '../../common/app-error';
import { loadConfig } from '../../config/app-config';
import { createDataSource } from '../../database/data-source';
import { AuditEvent } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { CaSettings } from './ca-settings.entity';
import { CaSettingsService } from './ca-settings.service';
import { CertificateAuthority } from './certificate-authority.entity';

let db: TestDatabase;
let ds: DataSource;
let service: CaSettingsService;
let preSetup: Awaited<ReturnType<CaSettingsService['get']>>;
let preSetupRows: number;

before(async () => {
  db = await createTestDatabase();
  ds = createDataSource(db.url);
  await ds.initialize();
  await ds.runMigrations();
  const config = loadConfig({ ENCLAVE_DEVICE_CERT_DAYS: '365', ENCLAVE_CRL_HOURS: '6' });
  service = new CaSettingsService(
    config,
    ds.getRepository(CaSettings),
    ds.getRepository(CertificateAuthority),
    new AuditService(ds.getRepository(AuditEvent)),
  );
  // Before setup (no CA): reads answer the environment's values and store nothing.
  preSetup = await service.get();
  preSetupRows = (await ds.query('SELECT count(*)::int AS n FROM ca_settings'))[0].n;
  // A CA that expires in 100 days: the env's 3650-day account lifetime cannot be seeded as is.
  const ca = await createCertificateAuthority({ commonName: 'Spec CA', algorithm: 'P-256', validityDays: 100 });
  await ds.getRepository(CertificateAuthority).insert({
    keyId: keyId(ca.certificatePem),
    subject: ca.subject,
    algorithm: 'P-256',
    certificatePem: ca.certificatePem,
    privateKeySealed: randomBytes(8).toString('hex'),
    notAfter: ca.notAfter,
    imported: false,
    active: true,
    overlapUntil: null,
    retiredAt: null,
  });
});
after(async () => {
  await ds?.destroy();
  await db?.drop();
  await stopTestPostgres();
});

const rows = async () => ({
  settings: await ds.query('SELECT * FROM ca_settings'),
  audit: await ds.query('SELECT count(*)::int AS n FROM audit_events'),
});

test('before the CA exists, reads answer the environment values without storing them', () => {
  assert.deepEqual(preSetup, { accountCertDays: 3650, deviceCertDays: 365, crlHours: 6, renewBeforeDays: 30 });
  assert.equal(preSetupRows, 0);
});

test('the first read seeds the row from the environment, clamped to what the CA allows', async () => {
  const seeded = await service.get();
  assert.ok(seeded.accountCertDays >= 99 && seeded.accountCertDays <= 100);
  assert.equal(seeded.deviceCertDays, seeded.accountCertDays);
  assert.equal(seeded.crlHours, 6);
  assert.equal(seeded.renewBeforeDays, 30);
  assert.deepEqual(await service.get(), seeded);
  assert.equal((await ds.query('SELECT count(*)::int AS n FROM ca_settings'))[0].n, 1);
});

test('update refuses values that outlive the CA or contradict each other, naming the field, writing nothing', async () => {
  const before = await rows();
  const cases: [Record<string, number>, string][] = [
    [{ accountCertDays: 101 }, 'accountCertDays'],
    [{ deviceCertDays: 150 }, 'deviceCertDays'],
    [{ accountCertDays: 50, deviceCertDays: 60 }, 'deviceCertDays'],
    [{ renewBeforeDays: 60, deviceCertDays: 60, accountCertDays: 90 }, 'renewBeforeDays'],
    [{ crlHours: 9000 }, 'crlHours'],
  ];
  for (const [patch, field] of cases) {
    await assert.rejects(service.update(patch, 'admin:spec'), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, ErrorCode.CA_SETTINGS_INVALID);
      assert.equal(err.details?.field, field, err.message);
      assert.ok(err.message.startsWith(`${field}:`));
      return true;
    });
  }
  assert.deepEqual(await rows(), before);
});

test('update stores valid values and audits the change', async () => {
  const next = await service.update({ accountCertDays: 90, deviceCertDays: 60, renewBeforeDays: 14 }, 'admin:spec');
  assert.deepEqual(next, { accountCertDays: 90, deviceCertDays: 60, crlHours: 6, renewBeforeDays: 14 });
  assert.deepEqual(await service.get(), next);
  const [event] = await ds.query("SELECT actor, action FROM audit_events WHERE action = 'ca.settings_updated'");
  assert.deepEqual(event, { actor: 'admin:spec', action: 'ca.settings_updated' });
});
