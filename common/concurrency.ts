// Bounded concurrency for work fanned out inside one activity or request: a few database or network calls at a time,
// so one caller never takes a whole connection pool.

/** At most `limit` works at a time; the others wait their turn, in the order they came. */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  /** Runs `work` in a slot; rejects with `signal`'s reason, without running it, if it aborts while waiting. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.running < this.limit) this.running++;
    else {
      // Handed the slot of one that ended.
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = this.waiting.indexOf(handOver);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(signal?.reason);
        };
        const handOver = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.waiting.push(handOver);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** `work` over the items, at most `limit` at a time, started in their order; the results in the items' order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
