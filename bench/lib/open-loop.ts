// Open-loop load: requests start on a fixed schedule whatever the latency of earlier ones, so a slow server shows
// up as latency (not as a lower offered rate, which a closed loop would silently measure instead).
export type OpenLoopResult = { latenciesMs: number[]; errors: number; durationMs: number; firstError?: string };

export async function runOpenLoop(opts: {
  ratePerSecond: number;
  count: number;
  call: (i: number) => Promise<void>;
}): Promise<OpenLoopResult> {
  const intervalMs = 1000 / opts.ratePerSecond;
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < opts.count; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const t0 = performance.now();
    inflight.push(
      opts.call(i).then(
        () => {
          latenciesMs.push(performance.now() - t0);
        },
        (error: unknown) => {
          errors++;
          firstError ??= String(error);
        },
      ),
    );
  }
  await Promise.all(inflight);
  return { latenciesMs, errors, durationMs: performance.now() - started, firstError };
}
