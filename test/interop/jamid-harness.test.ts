import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { JamiEnv, jamidUnavailableReason, startJamiEnv } from '../support/jamid';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

after(async () => {
  await stopTestPostgres();
});

interface RequestLogLine {
  msg?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
}

test(
  'a stock jamid refused on POST /api/auth/device ends in ERROR_GENERIC, drops the account and changes nothing on the server',
  { timeout: 180_000 },
  async (t) => {
    const unavailable = jamidUnavailableReason();
    if (unavailable) {
      t.skip(`jamid interop: ${unavailable}`);
      return;
    }
    const serverLog: RequestLogLine[] = [];
    const logStream = new PassThrough();
    logStream.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        try {
          serverLog.push(JSON.parse(line) as RequestLogLine);
        } catch {
          // not a JSON log line
        }
      }
    });
    let server: TestServer | undefined;
    let env: JamiEnv | undefined;
    try {
      server = await startTestServer({ LOG_LEVEL: 'info' }, logStream);
      const token = await setUp(server);
      const created = await server.request('POST', '/api/admin/users', {
        token,
        body: { username: 'alice', password: 'alice-password-1' },
      });
      assert.equal(created.status, 201, created.text());
      const ca = await server.request('GET', '/api/ca');
      assert.equal(ca.status, 200, ca.text());

      const startAt = Date.now();
      env = await startJamiEnv({ serverPort: server.port, caPem: ca.text(), hostname: 'interop-device' });
      t.diagnostic(
        `env started in ${Date.now() - startAt} ms (jamid owned its bus name after ${env.timings.jamidReadyMs[0]} ms)`,
      );
      assert.deepEqual(await env.accountList(), [], 'a fresh jamid has no account');

      const addAt = Date.now();
      const id = await env.addJamsAccount({ username: 'alice', password: 'not-alices-password' });
      assert.match(id, /^[0-9a-f]{16}$/);
      // The server answers 404 while /api/auth/device is not implemented, 401 once it is: both are refusals.
      const outcome = await env.waitForRegistration(id, 30_000);
      t.diagnostic(`addAccount → ${outcome} in ${Date.now() - addAt} ms (${env.registrationStates(id).join(' → ')})`);
      assert.equal(outcome, 'ERROR_GENERIC', env.diagnostics());
      assert.equal(env.registrationStates(id)[0], 'INITIALIZING', 'the signals sent during addAccount were kept');
      assert.ok(await env.waitForAccountRemoved(id, 10_000), 'the daemon deletes the refused account');
      assert.deepEqual(await env.accountList(), []);

      // The request went through the namespace bridge, over verified TLS, and got an HTTP answer.
      const log = env.logs();
      assert.ok(
        log.includes(`[Auth] authentication with: alice to https://127.0.0.1:${server.port}/api/auth/device`),
        env.diagnostics(),
      );
      assert.match(log, /Got request callback with status code=(401|404)\b/, env.diagnostics());
      assert.ok(env.bridgeConnections >= 1);
      await new Promise((r) => setTimeout(r, 50)); // let the server's log line through
      const seen = serverLog.filter((l) => l.req?.method === 'POST' && l.req.url === '/api/auth/device');
      assert.ok(seen.length >= 1, 'the server logged the POST /api/auth/device');
      assert.ok(
        seen.some((l) => l.res?.statusCode === 401 || l.res?.statusCode === 404),
        JSON.stringify(seen),
      );

      // Nothing was written for the user.
      const user = await server.request('GET', '/api/admin/users/alice', { token });
      assert.equal(user.status, 200, user.text());
      assert.deepEqual(user.json().devices, []);
      assert.equal(user.json().jamiId, null);

      // restart() brings the daemon back on the same directories, still without the deleted account.
      const restartAt = Date.now();
      const stopped = await env.restart();
      t.diagnostic(
        `restart: jamid stopped in ${stopped.ms} ms${stopped.killed ? ' (SIGKILL)' : ''}, total ${Date.now() - restartAt} ms`,
      );
      assert.deepEqual(await env.accountList(), []);
    } finally {
      const stopAt = Date.now();
      const results = (await env?.stop()) ?? [];
      const each = results.map((r) => `${r.name} ${r.ms} ms${r.killed ? ' (SIGKILL)' : ''}`).join(', ');
      t.diagnostic(`teardown in ${Date.now() - stopAt} ms: ${each}`);
      await server?.close();
    }
  },
);
