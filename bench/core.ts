// Core benchmark (issue 2): ticket-create latency over HTTP with the outbox relay running and stopped, and the
// outbox-to-Temporal lag at 50 and 200 ticket changes per second. Real PostgreSQL, a real Temporal dev server
// (its own, on port 7283, SQLite), and the product's own API and worker processes.
//
// Run: npm run bench (or: bash scripts/bench.sh core). Rounds alternate relay-off and relay-on so drift on the
// machine hits both sides; each figure is the median over rounds.
//
// A second part (issue 8) counts what each kind of ticket event costs Temporal: starts, signals, workflow tasks,
// activity tasks and local activities per event, from the workflow histories, on a stack of its own
// (bench/lib/core-ops.ts). BENCH_CORE_PARTS=latency,ops chooses the parts (both by default).
import type pg from 'pg';
import { measureOps, printOps } from './lib/core-ops.ts';
import { runOpenLoop } from './lib/open-loop.ts';
import type { Started } from './lib/processes.ts';
import { benchStack, waitForOutboxEmpty } from './lib/stack.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CREATE_COUNT = Number(process.env.BENCH_CREATE_COUNT ?? 500);
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 10);
const WARMUP_COUNT = Number(process.env.BENCH_WARMUP_COUNT ?? 500);
const RELAY_WARMUP_COUNT = Number(process.env.BENCH_RELAY_WARMUP_COUNT ?? 250);
const stack = benchStack('core', { api: 3083, temporal: 7283, temporalUi: 8283 });
const baseUrl = stack.baseUrl;

function client(key: string) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  return {
    async createTicket(i: number): Promise<{ id: string; version: number }> {
      const res = await fetch(`${baseUrl}/api/tickets`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ subject: `Bench ticket ${i}`, description: 'Printer on fire', priority: 'normal' }),
      });
      if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; version: number };
    },
    async updateTicket(id: string, version: number): Promise<number> {
      const res = await fetch(`${baseUrl}/api/tickets/${id}`, {
        method: 'PATCH',
        headers,
        // Alternate per ticket: an update that changes nothing writes no event.
        body: JSON.stringify({ version, priority: version % 2 ? 'high' : 'low' }),
      });
      if (res.status !== 200) throw new Error(`update: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { version: number }).version;
    },
  };
}

async function lagSince(pool: pg.Pool, sinceId: number): Promise<number[]> {
  const { rows } = await pool.query(
    `select extract(epoch from (dispatched_at - created_at)) * 1000 as lag from ticket_events where id > $1`,
    [sinceId],
  );
  return rows.map((r) => Number(r.lag));
}

async function maxEventId(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query('select coalesce(max(id), 0)::bigint as id from ticket_events');
  return Number(rows[0].id);
}

/** Ticket changes at a fixed rate: each tick updates one of 20 tickets (round robin), with its current version. */
async function changesAtRate(api: ReturnType<typeof client>, rate: number, seconds: number) {
  const tickets = await Promise.all(Array.from({ length: 20 }, (_, i) => api.createTicket(i)));
  const versions = tickets.map((t) => t.version);
  const busy = tickets.map(() => Promise.resolve());
  return runOpenLoop({
    ratePerSecond: rate,
    count: rate * seconds,
    call: (i) => {
      const slot = i % tickets.length;
      // One ticket's changes are sequential (as a person editing it would be); different tickets run in parallel.
      const next = busy[slot]!.then(async () => {
        versions[slot] = await api.updateTicket(tickets[slot]!.id, versions[slot]!);
      });
      busy[slot] = next.catch(() => {});
      return next;
    },
  });
}

const PARTS = (process.env.BENCH_CORE_PARTS ?? 'latency,ops').split(',').map((p) => p.trim());
for (const part of PARTS) {
  if (part !== 'latency' && part !== 'ops') throw new Error(`BENCH_CORE_PARTS: unknown part ${JSON.stringify(part)}`);
}

async function latency() {
  console.log(
    `core benchmark: ${ROUNDS} rounds, ${CREATE_COUNT} creates at 50/s per side, lag runs of ${LAG_SECONDS}s`,
  );
  await stack.prepare();
  const pool = stack.pool();
  let apiProcess: Started | undefined;
  let worker: Started | undefined;
  const results = {
    createOff: [] as Array<{ p50: number; p99: number }>,
    createOn: [] as Array<{ p50: number; p99: number }>,
    lag50: [] as Array<{ p50: number; p99: number; achieved: number }>,
    lag200: [] as Array<{ p50: number; p99: number; achieved: number }>,
  };
  try {
    apiProcess = await stack.startApi();
    const api = client(await stack.apiKey());
    // Warm up connections, JIT and the relay's path at the measured rate: after 50 creates one at a time the first
    // round's relay-stopped p99 was still the API warming up (25 ms against 7–9 in the later rounds, three runs in
    // three), which flattered that round's ratio.
    worker = await stack.startWorker();
    const warm = await runOpenLoop({
      ratePerSecond: 50,
      count: WARMUP_COUNT,
      call: (i) => api.createTicket(i).then(() => {}),
    });
    if (warm.errors) throw new Error(`warm-up had ${warm.errors} errors: ${warm.firstError}`);
    await waitForOutboxEmpty(pool);

    for (let round = 1; round <= ROUNDS; round++) {
      await worker?.stop();
      worker = undefined;
      const off = await runOpenLoop({
        ratePerSecond: 50,
        count: CREATE_COUNT,
        call: (i) => api.createTicket(i).then(() => {}),
      });
      if (off.errors) throw new Error(`relay-off run had ${off.errors} errors: ${off.firstError}`);
      results.createOff.push({ p50: percentile(off.latenciesMs, 50), p99: percentile(off.latenciesMs, 99) });

      worker = await stack.startWorker();
      await waitForOutboxEmpty(pool); // the backlog from the relay-off run goes out before we measure
      // The worker has just started (stopping it is how the relay is stopped): it compiles its hot paths on V8's
      // helper threads for its first seconds. A worker in service has long done that, so its relay is measured
      // after a few seconds at the measured rate (BENCH_RELAY_WARMUP_COUNT creates, not counted).
      const relayWarm = await runOpenLoop({
        ratePerSecond: 50,
        count: RELAY_WARMUP_COUNT,
        call: (i) => api.createTicket(i).then(() => {}),
      });
      if (relayWarm.errors) throw new Error(`relay warm-up had ${relayWarm.errors} errors: ${relayWarm.firstError}`);
      await waitForOutboxEmpty(pool);
      let since = await maxEventId(pool);
      const on = await runOpenLoop({
        ratePerSecond: 50,
        count: CREATE_COUNT,
        call: (i) => api.createTicket(i).then(() => {}),
      });
      if (on.errors) throw new Error(`relay-on run had ${on.errors} errors: ${on.firstError}`);
      results.createOn.push({ p50: percentile(on.latenciesMs, 50), p99: percentile(on.latenciesMs, 99) });
      await waitForOutboxEmpty(pool);

      for (const [rate, bucket] of [
        [50, results.lag50],
        [200, results.lag200],
      ] as const) {
        since = await maxEventId(pool);
        const run = await changesAtRate(api, rate, LAG_SECONDS);
        if (run.errors) throw new Error(`lag run at ${rate}/s had ${run.errors} errors: ${run.firstError}`);
        await waitForOutboxEmpty(pool);
        const lags = await lagSince(pool, since);
        // Every change must have written its event, or the lag would describe fewer events than were offered.
        if (lags.length < run.latenciesMs.length)
          throw new Error(`${run.latenciesMs.length} changes wrote only ${lags.length} events`);
        bucket.push({
          p50: percentile(lags, 50),
          p99: percentile(lags, 99),
          achieved: (run.latenciesMs.length / run.durationMs) * 1000,
        });
      }
      const [offRound, onRound] = [results.createOff.at(-1)!, results.createOn.at(-1)!];
      // Each round's own figures too: a p99 of 500 creates is their fifth slowest, and moves between rounds.
      console.log(
        `round ${round} done: create p99 stopped ${formatMs(offRound.p99)} ms, running ${formatMs(onRound.p99)} ms ` +
          `(×${(onRound.p99 / offRound.p99).toFixed(2)})`,
      );
    }
  } finally {
    await worker?.stop();
    await apiProcess?.stop();
    await pool.end();
    stack.stopTemporal();
  }

  const m = (xs: Array<{ p50: number; p99: number }>, k: 'p50' | 'p99') => median(xs.map((x) => x[k]));
  const offP50 = m(results.createOff, 'p50');
  const onP50 = m(results.createOn, 'p50');
  const offP99 = m(results.createOff, 'p99');
  const onP99 = m(results.createOn, 'p99');
  console.log('\nTicket create over HTTP at 50/s (median of rounds):');
  printTable(
    ['relay', 'p50 ms', 'p99 ms'],
    [
      ['stopped (baseline)', formatMs(offP50), formatMs(offP99)],
      ['running', formatMs(onP50), formatMs(onP99)],
      ['ratio running/stopped', (onP50 / offP50).toFixed(2), (onP99 / offP99).toFixed(2)],
    ],
  );
  console.log('\nOutbox-to-Temporal lag (commit → Signal-With-Start accepted), median of rounds:');
  printTable(
    ['offered changes/s', 'achieved/s', 'p50 ms', 'p99 ms'],
    [
      [
        '50',
        median(results.lag50.map((x) => x.achieved)).toFixed(0),
        formatMs(m(results.lag50, 'p50')),
        formatMs(m(results.lag50, 'p99')),
      ],
      [
        '200',
        median(results.lag200.map((x) => x.achieved)).toFixed(0),
        formatMs(m(results.lag200, 'p50')),
        formatMs(m(results.lag200, 'p99')),
      ],
    ],
  );
}

if (PARTS.includes('latency')) await latency();
if (PARTS.includes('ops')) printOps(await measureOps(), stack.temporalServer);
