export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number; unit: string };
  /** value / baseline.value (both measured in the same run). */
  ratio: number;
  note?: string;
}

/** Runs `op` repeatedly (awaiting each call, `concurrency` at once) for about `seconds`; returns ops/s. */
export async function rate(op: () => unknown, seconds: number, concurrency = 1): Promise<number> {
  // Warm-up
  for (let i = 0; i < 3; i++) await op();
  let count = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op();
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

export function figure(
  name: string,
  value: number,
  unit: string,
  baseline: { name: string; value: number; unit: string },
  note?: string,
): BenchFigure {
  return { name, value, unit, baseline, ratio: value / baseline.value, note };
}

/** Sends GET requests with `concurrency` keep-alive connections for `seconds`; returns requests/s (2xx only). */
export async function httpLoad(
  url: string,
  opts: { seconds: number; concurrency: number; ca?: string; path: (i: number) => string },
): Promise<number> {
  const https = await import('node:https');
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: opts.concurrency,
    ca: opts.ca,
    rejectUnauthorized: !!opts.ca,
  });
  const get = (p: string) =>
    new Promise<number>((resolve, reject) => {
      const req = https.request(`${url}${p}`, { agent, method: 'GET' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  let n = 0;
  let ok = 0;
  for (let i = 0; i < opts.concurrency; i++) await get(opts.path(n++)); // warm-up: open the connections
  const start = performance.now();
  const end = start + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < end) {
        const status = await get(opts.path(n++));
        if (status >= 200 && status < 300) ok++;
      }
    }),
  );
  agent.destroy();
  return ok / ((performance.now() - start) / 1000);
}
