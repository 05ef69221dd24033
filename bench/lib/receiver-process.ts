// Starts bench/lib/latency-receiver.ts in a child process and reads its stats over HTTP.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type ReceiverStats = {
  count: number;
  distinctIds: number;
  latenciesMs: number[];
  /** Arrivals over 1 s late, by the second (after `since`) in which their event was written. */
  slowBySecond: Record<string, number>;
  /** Arrivals in each tenth of a second after `since`. */
  perTenth: number[];
  first: number | null;
  last: number | null;
};

export async function startLatencyReceiver() {
  const child = spawn(process.execPath, [new URL('./latency-receiver.ts', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  const { port } = JSON.parse(first.value as string) as { port: number };
  const base = `http://127.0.0.1:${port}`;
  return {
    port,
    url: (path = '/hook') => `${base}${path}`,
    stats: async (since = 0): Promise<ReceiverStats> =>
      (await (await fetch(`${base}/stats?since=${since}`)).json()) as ReceiverStats,
    stop: () => child.stdin!.end(),
  };
}
