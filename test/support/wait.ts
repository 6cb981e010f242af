/**
 * Polls `fn` every 200 ms until it returns a truthy value, and resolves with it; fails after `timeoutMs`
 * naming `what`. With `retryErrors`, a call that throws counts as "not yet" instead of failing the wait.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  opts: { retryErrors?: boolean } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await (opts.retryErrors ? fn().catch(() => undefined) : fn());
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
