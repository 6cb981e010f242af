import type { TestServer } from './server';

export interface SyncRun {
  id: string;
  mode: string;
  status: string;
  seen: number;
  added: number;
  updated: number;
  suspended: number;
  reactivated: number;
  errors: string[];
  pendingSuspensions: number;
}

/** Starts a sync through the admin API and waits for it to leave queued/running. */
export async function syncAndWait(
  server: TestServer,
  token: string,
  mode: 'full' | 'incremental' = 'full',
  timeoutMs = 60_000,
): Promise<SyncRun> {
  const res = await server.request('POST', '/api/admin/directory/sync', { token, body: { mode } });
  if (res.status !== 202) throw new Error(`sync not started: ${res.status} ${res.text()}`);
  return waitForRun(server, token, res.json<SyncRun>().id, timeoutMs);
}

export async function waitForRun(server: TestServer, token: string, id: string, timeoutMs = 60_000): Promise<SyncRun> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const run = (await server.request('GET', `/api/admin/directory/sync-runs/${id}`, { token })).json<SyncRun>();
    if (run.status !== 'queued' && run.status !== 'running') return run;
    if (Date.now() > end) throw new Error(`sync run ${id} still ${run.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
