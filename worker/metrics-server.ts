// The worker's /metrics: process defaults and the outbox relay's counters, so an operator can alert on a growing
// outbox (Temporal down, a ticket stuck) without reading logs. Plain node:http: the worker has no other HTTP needs.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { RelayMetrics } from '../outbox/relay.ts';

export function relayRegistry(metrics: () => RelayMetrics): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: (m: RelayMetrics) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(metrics()));
      },
    });
  gauge('outbox_events_dispatched', 'Ticket events Temporal accepted since the worker started', (m) => m.dispatched);
  gauge(
    'outbox_dispatch_failures',
    'Failed dispatch attempts since the worker started (each retried)',
    (m) => m.failed,
  );
  gauge(
    'outbox_oldest_pending_age_seconds',
    'Age of the oldest event still waiting in the outbox after the last batch',
    (m) => m.oldestPendingAgeMs / 1000,
  );
  gauge('outbox_last_lag_seconds', 'Commit-to-accept delay of the last dispatched event', (m) => m.lastLagMs / 1000);
  gauge('outbox_relay_is_leader', "1 when this worker's relay owns at least one partition, 0 on a standby", (m) =>
    m.isLeader ? 1 : 0,
  );
  gauge('outbox_relay_partitions', 'Partitions of the ticket space this relay owns now', (m) => m.partitions);
  gauge('outbox_relay_members', 'Live relays this relay counted at its last look, itself included', (m) => m.members);
  gauge(
    'outbox_relay_sends',
    'Temporal calls (wakes, signals, starts) the relay made since the worker started',
    (m) => m.sends,
  );
  gauge(
    'outbox_relay_sessions_lost',
    'Times the relay lost the database session holding its lock since the worker started',
    (m) => m.sessionsLost,
  );
  return registry;
}

/**
 * Serves GET /metrics on 127.0.0.1 unless `host` says otherwise; resolves once listening. A port that cannot be
 * bound (another worker or checkout holds it) rejects with one sentence naming WORKER_METRICS_PORT, instead of an
 * unhandled 'error' event taking the process down with a stack trace.
 */
export async function startMetricsServer(registry: Registry, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be used (${error.code ?? error.message})`;
      reject(
        new Error(
          `WORKER_METRICS_PORT ${port} ${why} on ${host}: set WORKER_METRICS_PORT to a free port, or 0 to turn the worker's metrics off`,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  return server;
}
