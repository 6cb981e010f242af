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
