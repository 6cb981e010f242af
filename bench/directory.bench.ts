import { DataSource } from 'typeorm';
import { LdapConnection } from '../apps/server/src/modules/directory/ldap-connection';
import { syncAndWait } from '../test/support/directory';
import { stopTestPostgres } from '../test/support/postgres';
import { setUp, startTestServer } from '../test/support/server';
import { startSlapd } from '../test/support/slapd';
import { BenchFigure, figure } from './harness';

const SIZES = (process.env.BENCH_DIRECTORY_SIZES ?? '10000,100000').split(',').map(Number);

/**
 * Full directory sync of N users and an incremental sync of 100 changed users, against the time slapd
 * takes to hand the same N entries to a paged-search client that writes nothing (same run).
 */
export async function run(): Promise<BenchFigure[]> {
  const slapd = await startSlapd({ sizeLimit: 1000 });
  const server = await startTestServer({ ENCLAVE_KEY_POOL_SIZE: '0' });
  const figures: BenchFigure[] = [];
  try {
    const admin = await setUp(server);
    await server.request('PUT', '/api/admin/directory', {
      token: admin,
      body: {
        type: 'ldap',
        url: slapd.url,
        bindDn: slapd.adminDn,
        bindPassword: slapd.adminPassword,
        baseDn: slapd.ldap.usersDn,
        syncIntervalMinutes: 0,
      },
    });
    let seeded = 0;
    for (const size of SIZES) {
      const fresh = Array.from({ length: size - seeded }, (_, i) => {
        const n = seeded + i;
        return {
          uid: `user${n}`,
          givenName: `Given${n}`,
          sn: `Family${n}`,
          mail: `user${n}@example.org`,
          telephoneNumber: `+1555${n}`,
        };
      });
      await slapd.addLdapUsers(fresh);
      seeded = size;
      // Bulk loading gives every entry the same modifyTimestamp. A real directory's entries are older than its
      // latest change: touch one entry a second later, so the watermark is not the bulk's second.
      await new Promise((r) => setTimeout(r, 1100));
      await slapd.modify(slapd.ldapUserDn('user0'), { replace: { sn: `Family0-${size}` } });

      // Baseline: the directory's own delivery of every entry over a paged search, no database writes.
      const conn = await LdapConnection.open({ url: slapd.url, startTls: false });
      await conn.bind(slapd.adminDn, slapd.adminPassword);
      let t = performance.now();
      await conn.pagedSearch(
        slapd.ldap.usersDn,
        {
          filter: '(objectClass=inetOrgPerson)',
          attributes: [
            'uid',
            'entryUUID',
            'modifyTimestamp',
            'givenName',
            'sn',
            'mail',
            'telephoneNumber',
            'jpegPhoto',
          ],
          pageSize: 1000,
        },
        async () => undefined,
      );
      const rawRead = (performance.now() - t) / 1000;
      await conn.close();

      t = performance.now();
      const full = await syncAndWait(server, admin, 'full', 600_000);
      const fullSeconds = (performance.now() - t) / 1000;
      if (full.status !== 'succeeded' || full.seen !== size) throw new Error(`full sync: ${JSON.stringify(full)}`);

      for (let i = 0; i < 100; i++)
        await slapd.modify(slapd.ldapUserDn(`user${i * Math.floor(size / 100)}`), {
          replace: { givenName: `Changed${i}` },
        });
      await new Promise((r) => setTimeout(r, 1100)); // modifyTimestamp has one-second resolution
      t = performance.now();
      const inc = await syncAndWait(server, admin, 'incremental', 600_000);
      const incSeconds = (performance.now() - t) / 1000;
      if (inc.status !== 'succeeded' || inc.updated !== 100)
        throw new Error(`incremental sync: ${JSON.stringify(inc)}`);
      const [{ n }] = await server.app.get(DataSource).query('SELECT count(*)::int AS n FROM users');
      if (n !== size) throw new Error(`expected ${size} users, found ${n}`);

      const baseline = { name: `paged read of ${size} entries, no writes`, value: rawRead, unit: 's' };
      figures.push(
        figure(
          `full sync, ${size} users`,
          fullSeconds,
          's',
          baseline,
          `${Math.round(size / fullSeconds)} users/s; target 100k < 60 s`,
        ),
        figure(
          `incremental sync, 100 changed of ${size}`,
          incSeconds,
          's',
          baseline,
          `read ${inc.seen} entries, wrote ${inc.updated}`,
        ),
      );
    }
    return figures;
  } finally {
    await server.close();
    await slapd.destroy();
    await stopTestPostgres();
  }
}
