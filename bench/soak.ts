// Soak benchmark (issue 8): ticket updates through the API at a fixed rate for a set time, one webhook endpoint
// subscribed to them, and the product's own API, worker and Temporal server. Every SOAK_SAMPLE_SECONDS it samples
// the resident memory of each process; at the end it waits for the backlog, then reports the events written against
// the events delivered (and any duplicates), and the workflows that failed or are stuck.
//
// Run: npm run bench -- soak (SOAK_MINUTES=30, SOAK_RATE=20 ticket updates/s). The worker's target: under 400 MB
// and flat, its last 10 minutes (or last third, for shorter runs) within 10%.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectTemporalClient } from '../common/temporal-client.ts';
import { repoRoot, type Started } from './lib/processes.ts';
import { startLatencyReceiver } from './lib/receiver-process.ts';
import { apiClient, benchStack, waitForOutboxEmpty } from './lib/stack.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 20);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 30);
const TICKETS = 40;
const ports = { api: 3086, temporal: 7286, temporalUi: 8286 };
const stack = benchStack('soak', ports);

/** Resident set size of a process in MB, from /proc (Linux); null once it has gone. */
function rssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : null;
  } catch {
    return null;
  }
}

/** The Temporal server's pid, from the pid file its start script writes. */
function temporalPid(): number | undefined {
  const file =
    stack.temporalServer === 'postgres'
      ? join(repoRoot, `.data/temporal-server/${ports.temporal}.pid`)
      : join(repoRoot, `.data/temporal/dev-${ports.temporal}.pid`);
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function main() {
  console.log(`soak: ${RATE} ticket updates/s for ${MINUTES} min, one webhook endpoint, RSS every ${SAMPLE_SECONDS}s`);
  await stack.prepare();
  const receiver = await startLatencyReceiver();
  let api: Started | undefined;
  let worker: Started | undefined;
  try {
    api = await stack.startApi();
    worker = await stack.startWorker();
    const call = apiClient(stack.baseUrl, await stack.apiKey());
    await call(
      'POST',
      '/api/webhooks/endpoints',
      { url: receiver.url('/soak'), eventTypes: ['ticket.updated'], rateLimitPerSecond: 1000, maxConcurrency: 20 },
      201,
    );
    const tickets = await Promise.all(
      Array.from({ length: TICKETS }, (_, i) =>
        call<{ id: string; version: number }>('POST', '/api/tickets', { subject: `Soak ${i}` }, 201),
      ),
    );
    const versions = tickets.map((t) => t.version);
    const busy = tickets.map(() => Promise.resolve());

    const pids = { api: api.child.pid, worker: worker.child.pid, temporal: temporalPid() };
    const samples: Array<{ minute: number; api: number | null; worker: number | null; temporal: number | null }> = [];
    const started = Date.now();
    const sample = () =>
      samples.push({
        minute: (Date.now() - started) / 60_000,
        api: rssMb(pids.api),
        worker: rssMb(pids.worker),
        temporal: rssMb(pids.temporal),
      });
    sample();
    const sampler = setInterval(sample, SAMPLE_SECONDS * 1000);

    // Open loop: one update every 1/RATE s; one ticket's updates in turn (each carries the version it read).
    let written = 0;
    let errors = 0;
    let firstError: string | undefined;
    const total = Math.round(MINUTES * 60 * RATE);
    const updateLatencies: number[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = i % TICKETS;
      busy[t] = busy[t]!.then(async () => {
        const t0 = performance.now();
        try {
          const updated = await call<{ version: number }>('PATCH', `/api/tickets/${tickets[t]!.id}`, {
            version: versions[t],
            priority: versions[t]! % 2 ? 'high' : 'low',
          });
          versions[t] = updated.version;
          written++;
          updateLatencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= String(error);
        }
      });
    }
    await Promise.all(busy);
    const loadEnded = Date.now();

    // The backlog: every event dispatched, then every delivery made (or a minute of nothing more arriving).
    const pool = stack.pool();
    await waitForOutboxEmpty(pool, 300_000);
    let stats = await receiver.stats();
    for (let idle = 0; stats.distinctIds < written && idle < 60; idle++) {
      await new Promise((r) => setTimeout(r, 1000));
      const next = await receiver.stats();
      if (next.count > stats.count) idle = 0;
      stats = next;
    }
    sample();
    clearInterval(sampler);
    const drainSeconds = (Date.now() - loadEnded) / 1000;

    const { rows: deliveryRows } = await pool.query(
      `select status::text, count(*)::int as n from webhook_deliveries group by status order by status`,
    );
    await pool.end();
    const temporal = await connectTemporalClient({
      address: `127.0.0.1:${ports.temporal}`,
      namespace: 'default',
      codecKeys: (await import('../common/config.ts')).loadConfig({ ...process.env, ...stack.env }).codecKeys,
    });
    const count = async (query: string) => (await temporal.client.workflow.count(query)).count;
    const failing = await count(
      'ExecutionStatus="Failed" OR ExecutionStatus="TimedOut" OR ExecutionStatus="Terminated"',
    );
    const running = await count('ExecutionStatus="Running"');
    await temporal.close();

    console.log('\nResident memory (MB) by minute');
    printTable(
      ['minute', 'api', 'worker', 'temporal'],
      samples.map((s) => [s.minute.toFixed(1), s.api ?? '-', s.worker ?? '-', s.temporal ?? '-']),
    );
    const tailFrom = MINUTES >= 15 ? MINUTES - 10 : (MINUTES * 2) / 3;
    const tail = samples.filter((s) => s.minute >= tailFrom && s.worker !== null).map((s) => s.worker!);
    const spread = tail.length ? (Math.max(...tail) - Math.min(...tail)) / Math.min(...tail) : Number.NaN;
    const peak = Math.max(...samples.map((s) => s.worker ?? 0));
    console.log('\nSoak summary');
    printTable(
      ['figure', 'value'],
      [
        ['Temporal server', stack.temporalServer],
        ['ticket updates written', written],
        ['update errors', `${errors}${firstError ? ` (first: ${firstError})` : ''}`],
        ['update p50 / p99', `${formatMs(median(updateLatencies))} / ${formatMs(percentile(updateLatencies, 99))}`],
        ['webhook messages received (distinct)', stats.distinctIds],
        ['duplicates received', stats.count - stats.distinctIds],
        ['lost (written, never received)', Math.max(0, written - stats.distinctIds)],
        [
          'delivery p50 / p99 (event → receiver)',
          `${formatMs(median(stats.latenciesMs))} / ${formatMs(percentile(stats.latenciesMs, 99))}`,
        ],
        ['deliveries by status', deliveryRows.map((r) => `${r.status} ${r.n}`).join(', ')],
        ['backlog drained in', `${drainSeconds.toFixed(1)} s`],
        ['workflows failed, timed out or terminated', failing],
        ['workflows still running (endpoint loops and watches)', running],
        ['worker RSS peak', `${peak} MB`],
        [`worker RSS spread from minute ${tailFrom.toFixed(0)}`, `${(spread * 100).toFixed(1)}%`],
        ['target', `worker under 400 MB and spread within 10%: ${peak < 400 && spread <= 0.1 ? 'met' : 'missed'}`],
      ],
    );
  } finally {
    await worker?.stop();
    await api?.stop();
    receiver.stop();
    stack.stopTemporal();
  }
}

await main();
