// Webhooks benchmark (issue 3): deliveries per second with 1, 10 and 100 endpoints, both for the delivery engine
// alone (pending rows in PostgreSQL → endpoint workflows → receiver) and end to end (ticket event → receiver);
// event-to-delivery latency at a fixed offered load; and, in the same run against the same receiver, two
// baselines: a plain Node keep-alive POST loop (the ceiling) and a BullMQ-on-Redis sender doing the same signed
// deliveries with retries. Real PostgreSQL, Temporal (its own dev server), Redis, the product's API and worker.
//
// Run: npm run bench -- webhooks. Ticket events are written through the domain (updateTicket: the change, its
// ticket_events row, the audit row), exactly as the API writes them, so the HTTP layer does not cap the event rate.
import { cpus, loadavg } from 'node:os';
import { connectDatabase } from '@switchboard/database';
import { sql } from 'drizzle-orm';
import { MAX_RATE_LIMIT_PER_SECOND } from '../common/webhooks/endpoint-limits.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { updateTicket } from '../domain/tickets/update-ticket.ts';
import { bullmqSender, rawKeepAliveLoop } from './lib/baselines.ts';
import { runOpenLoop } from './lib/open-loop.ts';
import type { Started } from './lib/processes.ts';
import { startLatencyReceiver } from './lib/receiver-process.ts';
import { apiClient, benchStack, userScope } from './lib/stack.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const TARGET_DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 6000);
/** Deliveries per run of the delivery engine alone (pending rows → receiver), split over the endpoints. */
const ENGINE_DELIVERIES = Number(process.env.BENCH_ENGINE_DELIVERIES ?? 12_000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Which parts run besides the baselines and the engine: `events` (event → receiver throughput), `latency`. */
const PARTS = (process.env.BENCH_WEBHOOKS_PARTS ?? 'events,latency').split(',');
/**
 * Each endpoint as a receiver built for volume would configure it: as many requests in flight as the BullMQ peer
 * has workers (64), and a rate limit that does not pace them (the peer has none).
 */
const ENDPOINT_LANES = Number(process.env.BENCH_ENDPOINT_LANES ?? 64);
/** The webhooks module's default listening time (SWITCHBOARD_WEBHOOK_LISTEN_MS), which the warm run waits out. */
const LISTEN_QUIET_MS = Number(process.env.SWITCHBOARD_WEBHOOK_LISTEN_MS ?? 5_000);
const ENDPOINT_RATE_LIMIT = Number(process.env.BENCH_ENDPOINT_RATE_LIMIT ?? MAX_RATE_LIMIT_PER_SECOND);
// Overridable, so two checkouts on one machine can each run it (their own database, Temporal data and ports).
const stack = benchStack(process.env.BENCH_STACK_NAME ?? 'webhooks', {
  api: Number(process.env.BENCH_API_PORT ?? 3084),
  temporal: Number(process.env.BENCH_TEMPORAL_PORT ?? 7284),
  temporalUi: Number(process.env.BENCH_TEMPORAL_UI_PORT ?? 8284),
});

type Endpoint = { id: string };

async function main() {
  console.log(
    `webhooks benchmark: ${TARGET_DELIVERIES} deliveries per throughput run, ${ROUNDS} rounds, ` +
      `latency at 500 deliveries/s for ${LATENCY_SECONDS}s`,
  );
  await stack.prepare();
  const receiver = await startLatencyReceiver();
  const database = connectDatabase(stack.databaseUrl, 16);
  let api: Started | undefined;
  let worker: Started | undefined;
  const rows: Array<Array<string | number>> = [];
  try {
    api = await stack.startApi();
    worker = await stack.startWorker();
    const call = apiClient(stack.baseUrl, await stack.apiKey());
    const scope = await userScope(call);
    const tickets = await Promise.all(
      Array.from({ length: 200 }, (_, i) => createTicket(database.db, scope, { subject: `Bench ${i}` })),
    );
    const versions = new Map(tickets.map((t) => [t.id, t.version]));
    const busy = new Map(tickets.map((t) => [t.id, Promise.resolve()]));
    let nextTicket = 0;
    /** One ticket change (a `ticket.updated` event), on the next ticket round robin; one ticket's changes in turn. */
    const change = (_i: number) => {
      const ticket = tickets[nextTicket++ % tickets.length]!;
      const next = busy.get(ticket.id)!.then(async () => {
        // Alternate per ticket: an update that changes nothing writes no event.
        const version = versions.get(ticket.id)!;
        const updated = await updateTicket(database.db, scope, ticket.id, {
          version,
          priority: version % 2 ? 'high' : 'low',
        });
        versions.set(ticket.id, updated.version);
      });
      busy.set(
        ticket.id,
        next.catch(() => {}),
      );
      return next;
    };

    const endpoints = async (n: number): Promise<Endpoint[]> => {
      const created: Endpoint[] = [];
      for (let i = 0; i < n; i++) {
        const { endpoint } = await call<{ endpoint: Endpoint }>(
          'POST',
          '/api/webhooks/endpoints',
          {
            url: receiver.url(`/e${i}`),
            eventTypes: ['ticket.updated'],
            rateLimitPerSecond: ENDPOINT_RATE_LIMIT,
            maxConcurrency: ENDPOINT_LANES,
          },
          201,
        );
        created.push(endpoint);
      }
      return created;
    };
    const disable = (list: Endpoint[]) =>
      Promise.all(list.map((e) => call('PATCH', `/api/webhooks/endpoints/${e.id}`, { enabled: false })));

    // Warm-up: JIT, connections, workflow code paths.
    const warm = await endpoints(1);
    await runBurst(change, receiver, 200, 1);
    await disable(warm);

    const throughput: Record<number, number[]> = { 1: [], 10: [], 100: [] };
    const engine: Record<number, number[]> = { 1: [], 10: [], 100: [] };
    const raw: number[] = [];
    const bull: number[] = [];
    // The same BullMQ sender with one queue (and worker) per endpoint: endpoints isolated as Switchboard's are.
    const bullPerEndpoint: Record<number, number[]> = { 1: bull, 10: [], 100: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      raw.push(await rawKeepAliveLoop(receiver, 5));
      bull.push((await bullmqSender(receiver, 10_000)).perSecond);
      for (const n of [10, 100]) bullPerEndpoint[n]!.push((await bullmqSender(receiver, 10_000, 64, n)).perSecond);
      // Each round's peers, so a round's engine rates can be read against the peers of the same minutes.
      console.log(
        `round ${round} peers: raw ${Math.round(raw.at(-1)!)}/s, BullMQ ${Math.round(bull.at(-1)!)}/s, ` +
          `a queue per endpoint ${Math.round(bullPerEndpoint[10]!.at(-1)!)}/s (10), ` +
          `${Math.round(bullPerEndpoint[100]!.at(-1)!)}/s (100)`,
      );
      for (const n of [1, 10, 100]) {
        const list = await endpoints(n);
        await vacuumDeliveryTables(database.db);
        engine[n]!.push(await runEngineBurst(database.db, call, scope, receiver, list, ENGINE_DELIVERIES, round));
        await disable(list);
      }
      for (const n of PARTS.includes('events') ? [1, 10, 100] : []) {
        const list = await endpoints(n);
        throughput[n]!.push(await runBurst(change, receiver, TARGET_DELIVERIES / n, n));
        await disable(list);
      }
      console.log(
        `round ${round} done (load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')})`,
      );
    }

    // Latency at a fixed offered load: 10 endpoints × 50 events/s = 500 deliveries/s, twice. Cold: the endpoints
    // were just created, so the first events start their delivery workflows. Warm: the endpoints' workflows run (one
    // event each beforehand) but their batches have ended (the listening time has passed), as after any lull.
    const latency = async (warm: boolean) => {
      const list = await endpoints(10);
      if (warm) {
        const before = Date.now();
        await change(0);
        await waitForDeliveries(receiver, before, 10);
        await new Promise((r) => setTimeout(r, LISTEN_QUIET_MS + 1_000));
      }
      const since = Date.now();
      const run = await runOpenLoop({ ratePerSecond: 50, count: 50 * LATENCY_SECONDS, call: change });
      if (run.errors) throw new Error(`latency run had ${run.errors} errors: ${run.firstError}`);
      const stats = await waitForDeliveries(receiver, since, 50 * LATENCY_SECONDS * 10);
      await disable(list);
      return stats;
    };
    const measureLatency = PARTS.includes('latency');
    const cold = measureLatency ? await latency(false) : undefined;
    const warmStats = measureLatency ? await latency(true) : undefined;
    const expected = 50 * LATENCY_SECONDS * 10;

    const rawM = median(raw);
    const bullM = median(bull);
    const perEndpointM = (n: number) => median(bullPerEndpoint[n]!);
    rows.push(['raw keep-alive POST loop (ceiling)', Math.round(rawM), '1.00', '-', '-']);
    rows.push(['BullMQ signed sender (baseline)', Math.round(bullM), (bullM / rawM).toFixed(2), '1.00', '1.00']);
    for (const n of [10, 100]) {
      const m = perEndpointM(n);
      rows.push([
        `BullMQ, a queue per endpoint, ${n} endpoints`,
        Math.round(m),
        (m / rawM).toFixed(2),
        (m / bullM).toFixed(2),
        '1.00',
      ]);
    }
    for (const n of [1, 10, 100]) {
      const m = median(engine[n]!);
      rows.push([
        `Switchboard engine, ${n} endpoint(s), pending rows → receiver`,
        Math.round(m),
        (m / rawM).toFixed(2),
        (m / bullM).toFixed(2),
        (m / perEndpointM(n)).toFixed(2),
      ]);
    }
    for (const n of PARTS.includes('events') ? [1, 10, 100] : []) {
      const m = median(throughput[n]!);
      rows.push([
        `Switchboard, ${n} endpoint(s), event → receiver`,
        Math.round(m),
        (m / rawM).toFixed(2),
        (m / bullM).toFixed(2),
        (m / perEndpointM(n)).toFixed(2),
      ]);
    }
    console.log(`\nDeliveries per second (median of ${ROUNDS} rounds; same receiver, same machine):`);
    console.log(
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (${cpus().length} CPUs)`,
    );
    printTable(['sender', 'deliveries/s', 'of raw', 'of BullMQ', 'of BullMQ, a queue per endpoint'], rows);
    if (cold && warmStats) {
      console.log(
        `\nEvent-to-delivery latency at 500 deliveries/s (10 endpoints × 50 events/s, ${expected} deliveries each):`,
      );
      printTable(
        ['endpoints', 'p50 ms', 'p99 ms', 'max ms', 'received', 'distinct webhook-ids', 'over 1 s, by second written'],
        [
          ['cold (just created)', cold],
          ['warm (workflows running)', warmStats],
        ].map(([label, stats]) => {
          const s = stats as typeof cold;
          return [
            label as string,
            formatMs(percentile(s.latenciesMs, 50)),
            formatMs(percentile(s.latenciesMs, 99)),
            formatMs(Math.max(...s.latenciesMs)),
            s.count,
            s.distinctIds,
            JSON.stringify(s.slowBySecond),
          ];
        }),
      );
    }
  } finally {
    await worker?.stop();
    await api?.stop();
    receiver.stop();
    await database.close();
    stack.stopTemporal();
  }
}

/**
 * What autovacuum does for a production database, done before each timed engine run, outside its clock (the event
 * runs, which follow, are not vacuumed apart). This machine's
 * PostgreSQL runs with `autovacuum = off` (its conf.d/90-ci.conf), so without it every delivery's dead row versions
 * (claimed, recorded: about three per delivery) stay in the tables and their indexes, and each run pays for all the
 * earlier ones: PostgreSQL's CPU for the same 12,000 deliveries grew by a third from round 1 to round 3
 * (specification/performance.md, "Autovacuum is off here").
 */
async function vacuumDeliveryTables(db: ReturnType<typeof connectDatabase>['db']) {
  await db.execute(
    sql`vacuum (analyze) webhook_deliveries, webhook_attempts, webhook_messages, webhook_endpoint_listeners`,
  );
}

/**
 * The delivery engine alone, in the product's worker process: `total` deliveries, split over the endpoints, are
 * written as failed rows and queued again through the API's "resend failed" (which wakes each endpoint's workflow,
 * as an event would); returns deliveries per second from the first resend to the last delivery at the receiver.
 */
async function runEngineBurst(
  db: ReturnType<typeof connectDatabase>['db'],
  call: ReturnType<typeof apiClient>,
  scope: Awaited<ReturnType<typeof userScope>>,
  receiver: Awaited<ReturnType<typeof startLatencyReceiver>>,
  list: Endpoint[],
  total: number,
  round: number,
): Promise<number> {
  const perEndpoint = Math.ceil(total / list.length);
  const prefix = `msg_engine_${round}_${list.length}_`;
  const body = JSON.stringify({
    type: 'ticket.updated',
    timestamp: new Date().toISOString(),
    data: { ticket: { id: 'c0ffee', number: 4821, status: 'open', subject: 'Printer on fire'.repeat(4) } },
  });
  await db.execute(sql`insert into webhook_messages (id, organization_id, event_type, payload)
    select ${prefix} || g, ${scope.organizationId}, 'ticket.updated', ${body}::jsonb from generate_series(1, ${perEndpoint}) g`);
  await db.execute(sql`insert into webhook_deliveries (organization_id, endpoint_id, message_id, status)
    select ${scope.organizationId}, e, ${prefix} || g, 'failed'
    from generate_series(1, ${perEndpoint}) g, unnest(${sql.param(list.map((e) => e.id))}::uuid[]) e`);
  const since = Date.now();
  const started = performance.now();
  const sinceIso = new Date(since - 3_600_000).toISOString();
  await Promise.all(
    list.map((e) => call('POST', `/api/webhooks/endpoints/${e.id}/resend-failed`, { since: sinceIso }, 202)),
  );
  const accepted = performance.now() - started;
  const expected = perEndpoint * list.length;
  const stats = await waitForDeliveries(receiver, since, expected);
  const seconds = (performance.now() - started) / 1000;
  // Where the run's time went: the API's resends (rows queued again, workflows woken), the first request to arrive,
  // the last.
  console.log(
    `engine, ${list.length} endpoint(s): ${Math.round(expected / seconds)}/s; resends accepted after ` +
      `${Math.round(accepted)} ms, first delivery at ${(stats.first ?? since) - since} ms, last at ` +
      `${(stats.last ?? since) - since} ms; arrivals per 100 ms: ${stats.perTenth.join(' ')}`,
  );
  return expected / seconds;
}

/**
 * Writes `events` ticket changes as fast as the database takes them (16 at a time) and returns deliveries per
 * second from the first write to the last delivery at the receiver (`events × endpoints` of them).
 */
async function runBurst(
  change: (i: number) => Promise<void>,
  receiver: Awaited<ReturnType<typeof startLatencyReceiver>>,
  events: number,
  endpoints: number,
): Promise<number> {
  const since = Date.now();
  const started = performance.now();
  let i = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (i < events) await change(i++);
    }),
  );
  const expected = Math.round(events) * endpoints;
  await waitForDeliveries(receiver, since, expected);
  return expected / ((performance.now() - started) / 1000);
}

async function waitForDeliveries(
  receiver: Awaited<ReturnType<typeof startLatencyReceiver>>,
  since: number,
  expected: number,
  timeoutMs = 300_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await receiver.stats(since);
    if (stats.count >= expected) return stats;
    if (Date.now() > deadline) throw new Error(`only ${stats.count} of ${expected} deliveries arrived`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

await main();
