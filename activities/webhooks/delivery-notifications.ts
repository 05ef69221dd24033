// New deliveries for a listening endpoint, as the relay's fan-out announces them (NOTIFY webhook_deliveries with the
// endpoint's id, sent in the transaction that wrote them, so it arrives only once they are visible). One session per
// worker process LISTENs while at least one of its batches listens, taken from the pool and destroyed (not returned:
// a pooled session must not keep the LISTEN) when the last one stops, so an idle worker holds no extra connection
// and a closing pool is never kept waiting for it.
//
// A notification is a hint, never the only path: a listening batch also looks for due deliveries every poll
// interval, so a lost session (taken again at the next wait) costs latency, not deliveries.
import type pg from 'pg';
import type { Logger } from '../../common/logger.ts';

export const DELIVERIES_CHANNEL = 'webhook_deliveries';
const MAX_PENDING = 10_000;

export type DeliveryNotifications = {
  /**
   * Starts listening for one batch (resolves once the LISTEN is in place, or polling is all there is) and returns
   * the function that stops it; null when `maxListeners` batches of this process already listen, so listening
   * batches never fill the worker's activity slots: the batch then ends as before and its endpoint gets wakes.
   */
  hold(): Promise<(() => void) | null>;
  /**
   * Resolves at the first notification for the endpoint (one that came since its last wait counts), after `ms`, or
   * when `signal` aborts, whichever is first.
   */
  wait(endpointId: string, ms: number, signal?: AbortSignal): Promise<void>;
  /** Batches listening now (for tests and metrics). */
  listening(): number;
};

export function listenForDeliveries(
  pool: pg.Pool,
  options: { maxListeners: number; logger?: Pick<Logger, 'warn'> },
): DeliveryNotifications {
  const { logger, maxListeners } = options;
  let session: { client: Promise<pg.PoolClient> } | undefined;
  let holders = 0;
  /** Endpoints notified while none of their batches waited: the next wait returns at once. */
  const pending = new Set<string>();
  const waiters = new Map<string, Set<() => void>>();

  const onNotification = (message: pg.Notification) => {
    if (message.channel !== DELIVERIES_CHANNEL || !message.payload) return;
    const waiting = waiters.get(message.payload);
    if (!waiting || waiting.size === 0) {
      // Every worker process hears every endpoint's notifications; a stale entry costs one early look, no more.
      if (pending.size >= MAX_PENDING) pending.clear();
      pending.add(message.payload);
      return;
    }
    for (const wake of [...waiting]) wake();
  };

  /** Gives a session's client up; forgets the session only if it is still the current one. */
  const drop = (owner: { client: Promise<pg.PoolClient> }, client: pg.PoolClient, err: Error | true) => {
    if (session === owner) session = undefined;
    client.off('notification', onNotification);
    client.removeAllListeners('error');
    client.on('error', () => {});
    client.release(err);
  };

  const listen = (): Promise<pg.PoolClient> => {
    if (session) return session.client;
    const current = {} as { client: Promise<pg.PoolClient> };
    current.client = (async () => {
      const client = await pool.connect();
      client.on('notification', onNotification);
      client.once('error', (err) => {
        logger?.warn({ err }, 'webhook delivery notifications lost their database session; polling meanwhile');
        drop(current, client, err);
      });
      try {
        await client.query(`listen ${DELIVERIES_CHANNEL}`);
      } catch (err) {
        drop(current, client, err as Error);
        throw err;
      }
      return client;
    })();
    session = current;
    current.client.catch(() => {
      if (session === current) session = undefined;
    });
    return current.client;
  };
  const tryListen = () =>
    listen().then(
      () => {},
      (err) => logger?.warn({ err }, 'could not LISTEN for webhook deliveries; polling'),
    );

  return {
    async hold() {
      if (holders >= maxListeners) return null;
      holders += 1;
      await tryListen();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holders -= 1;
        if (holders > 0 || !session) return;
        const current = session;
        session = undefined;
        pending.clear();
        current.client.then((client) => drop(current, client, true)).catch(() => {});
      };
    },
    async wait(endpointId, ms, signal) {
      if (signal?.aborted) return;
      // A session lost meanwhile is taken again; without one the wait is a plain poll interval.
      if (holders > 0 && !session) await tryListen();
      if (pending.delete(endpointId)) return;
      await new Promise<void>((resolve) => {
        const set = waiters.get(endpointId) ?? new Set();
        waiters.set(endpointId, set);
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          set.delete(done);
          if (set.size === 0) waiters.delete(endpointId);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
        set.add(done);
      });
    },
    listening: () => holders,
  };
}
