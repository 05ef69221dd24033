// The core benchmark's cost part (issue 8): Temporal operations per ticket event, counted from workflow histories,
// for each kind of event the relay meets. One stack of its own (database switchboard_bench_ops, its own Temporal
// server, the product's API and worker processes, the local Linear server and a webhook receiver); the scenarios run
// one after another on it, each in a window that opens and closes on a settled Temporal (bench/lib/temporal-ops.ts),
// so every operation stamped inside the window is the scenario's own.
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { installLinear, type LinearFake, linearFakeFor } from './linear.ts';
import { runOpenLoop } from './open-loop.ts';
import type { Started } from './processes.ts';
import { startLatencyReceiver } from './receiver-process.ts';
import { apiClient, benchStack, waitForOutboxEmpty } from './stack.ts';
import { printTable } from './stats.ts';
import { type OpCounts, type OpReport, opsInWindow, settle } from './temporal-ops.ts';

const EVENTS = Number(process.env.BENCH_OPS_EVENTS ?? 200);
const RATE = Number(process.env.BENCH_OPS_RATE ?? 50);
/** Tickets an update scenario spreads its events over (round robin, one ticket's updates in turn). */
const TICKETS = Number(process.env.BENCH_OPS_TICKETS ?? 20);
/** Comma-separated scenario keys to run (default: all), for a quicker look at one. */
const ONLY = process.env.BENCH_OPS_SCENARIOS?.split(',').filter(Boolean);

type Call = ReturnType<typeof apiClient>;
type Ticket = { id: string; version: number; priority: string };

export type ScenarioResult = {
  key: string;
  label: string;
  /** Ticket events the benchmark made (the divisor). */
  events: number;
  /** Ticket events written in the window by anyone (the benchmark's, and any an integration wrote back). */
  eventsInWindow: number;
  /** Relay batches that carried them (distinct dispatch statements). */
  batches: number;
  endpoints: number;
  report: OpReport;
  /** What the scenario saw outside Temporal, if anything (Linear's calls and webhooks). */
  note?: string;
};

type Scenario = {
  key: string;
  label: string;
  endpoints?: number;
  /** Makes what the events need (tickets, endpoints, links) before the window opens. */
  setup: () => Promise<(i: number) => Promise<void>>;
  /** Called as the window opens; what it returns is called as it closes, for the scenario's note. */
  observe?: () => () => string;
  /** Runs after the window closed (an endpoint disabled, so the next scenario's events do not reach it). */
  teardown?: () => Promise<void>;
};

export async function measureOps(): Promise<ScenarioResult[]> {
  // New ports and names, so that this stack never meets the latency part's or another benchmark's.
  const stack = benchStack('ops', { api: 3095, temporal: 7295, temporalUi: 8295 });
  const linear = await linearFakeFor(stack);
  const receiver = await startLatencyReceiver();
  console.log(
    `core ops: ${EVENTS} ticket events per scenario at ${RATE}/s, updates spread over ${TICKETS} tickets, ` +
      `Temporal server: ${stack.temporalServer}`,
  );
  await stack.prepare();
  const pool = stack.pool();
  let api: Started | undefined;
  let worker: Started | undefined;
  let connection: Connection | undefined;
  const results: ScenarioResult[] = [];
  try {
    api = await stack.startApi();
    worker = await stack.startWorker();
    const key = await stack.apiKey();
    const call = apiClient(stack.baseUrl, key);
    connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
    const client = new Client({ connection });

    for (const scenario of scenarios({ call, apiKey: key, baseUrl: stack.baseUrl }, linear, receiver)) {
      if (ONLY && !ONLY.includes(scenario.key)) continue;
      const event = await scenario.setup();
      await waitForOutboxEmpty(pool);
      await settle(client);
      const sinceId = await maxEventId(pool);
      const fromMs = Date.now();
      const observed = scenario.observe?.();
      const run = await runOpenLoop({ ratePerSecond: RATE, count: EVENTS, call: event });
      if (run.errors) throw new Error(`${scenario.key}: ${run.errors} of ${EVENTS} events failed: ${run.firstError}`);
      await waitForOutboxEmpty(pool);
      await settle(client);
      const toMs = Date.now();
      const note = observed?.();
      const report = await opsInWindow(client, { fromMs, toMs });
      const written = await eventsSince(pool, sinceId);
      results.push({
        key: scenario.key,
        label: scenario.label,
        events: EVENTS,
        eventsInWindow: written.events,
        batches: written.batches,
        endpoints: scenario.endpoints ?? 0,
        report,
        note,
      });
      console.log(`${scenario.key} done: ${describeReport(results.at(-1)!)}`);
      await scenario.teardown?.();
    }
    linear.assertNoRejectedOperations();
  } finally {
    await connection?.close();
    await worker?.stop();
    await api?.stop();
    await pool.end();
    receiver.stop();
    stack.stopTemporal();
    await linear.close();
  }
  return results;
}

function scenarios(
  { call, apiKey, baseUrl }: { call: Call; apiKey: string; baseUrl: string },
  linear: LinearFake,
  receiver: Awaited<ReturnType<typeof startLatencyReceiver>>,
): Scenario[] {
  const inAMonth = () => new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
  const create = (i: number, extra: Record<string, unknown> = {}) =>
    call<Ticket>(
      'POST',
      '/api/tickets',
      { subject: `Ops ticket ${i}`, description: 'Printer on fire', priority: 'normal', ...extra },
      201,
    );
  const tickets = (extra: Record<string, unknown> = {}) =>
    Promise.all(Array.from({ length: TICKETS }, (_, i) => create(i, extra)));
  const endpoints = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { endpoint } = await call<{ endpoint: { id: string } }>(
        'POST',
        '/api/webhooks/endpoints',
        { url: receiver.url(`/ops${i}`), eventTypes: ['ticket.updated'], rateLimitPerSecond: 1000, maxConcurrency: 50 },
        201,
      );
      ids.push(endpoint.id);
    }
    return {
      ids,
      disable: () =>
        Promise.all(ids.map((id) => call('PATCH', `/api/webhooks/endpoints/${id}`, { enabled: false }))).then(() => {}),
    };
  };
  let disableEndpoints: () => Promise<void> = async () => {};
  const withEndpoints = (n: number): Scenario => ({
    key: `update-webhooks-${n}`,
    label: `an update, ${n} webhook endpoint${n === 1 ? '' : 's'}`,
    endpoints: n,
    async setup() {
      const list = await endpoints(n);
      disableEndpoints = list.disable;
      // One event first, so that every endpoint's delivery loop runs, as it does on a live system: the window then
      // counts what each event costs, not the first start of a loop the benchmark just created (that start is a
      // Signal-With-Start too, once per endpoint, again only after 15 idle minutes).
      const warm = await create(-1);
      await updates(call, [warm])(0);
      return updates(call, await tickets());
    },
    teardown: () => disableEndpoints(),
  });

  return [
    {
      key: 'create',
      label: 'a ticket create',
      setup: async () => (i) => create(i).then(() => {}),
    },
    {
      key: 'update',
      label: 'an update no workflow wants',
      setup: async () => updates(call, await tickets()),
    },
    {
      key: 'create-sla',
      label: 'a ticket create with an SLA clock',
      setup: async () => (i) => create(i, { resolutionDueAt: inAMonth() }).then(() => {}),
    },
    {
      key: 'update-sla',
      label: 'an update with an SLA clock',
      setup: async () => updates(call, await tickets({ resolutionDueAt: inAMonth() })),
    },
    // Before the Linear installation exists, so that the relay's Linear subscriber has nothing to look up for them.
    withEndpoints(1),
    withEndpoints(100),
    {
      key: 'update-linear',
      label: 'an update with a Linear link',
      async setup() {
        // A day between reconciles: a reconcile is the link's own clock, not a cost of an event, and one landing in
        // the window would be counted as one.
        await installLinear(call, linear, { reconcileIntervalMinutes: 1440 });
        const linked = await tickets();
        for (const ticket of linked) {
          // 201 when the issue was made in time, 202 while it is still being made: settling waits for it either way.
          const res = await fetch(`${baseUrl}/api/tickets/${ticket.id}/linear-links`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
            body: JSON.stringify({ action: 'create' }),
          });
          if (res.status !== 201 && res.status !== 202) throw new Error(`link: ${res.status} ${await res.text()}`);
        }
        return updates(call, linked);
      },
      observe() {
        const updatesBefore = linear.countCalls('issueUpdate');
        const webhooksBefore = linear.webhooks.deliveries.length;
        return () =>
          `Linear: ${linear.countCalls('issueUpdate') - updatesBefore} issueUpdate calls, ` +
          `${linear.webhooks.deliveries.length - webhooksBefore} webhooks sent (the echoes of our own updates)`;
      },
    },
  ];
}

/**
 * One event per call: a priority change of the next ticket, round robin. One ticket's updates run in turn, as a
 * person editing it would make them. Each ticket is read at its first update, as an integration may have written
 * to it since it was made (a Linear link's first sync).
 */
function updates(call: Call, tickets: Ticket[]): (i: number) => Promise<void> {
  const busy = tickets.map(() => Promise.resolve());
  const read = tickets.map(() => false);
  return (i) => {
    const slot = i % tickets.length;
    const next = busy[slot]!.then(async () => {
      let ticket = tickets[slot]!;
      if (!read[slot]) {
        ticket = tickets[slot] = await call<Ticket>('GET', `/api/tickets/${ticket.id}`);
        read[slot] = true;
      }
      // An update that changes nothing writes no event, so the priority flips each time.
      const priority = ticket.priority === 'high' ? 'low' : 'high';
      tickets[slot] = await call<Ticket>('PATCH', `/api/tickets/${ticket.id}`, { version: ticket.version, priority });
    });
    busy[slot] = next.catch(() => {});
    return next;
  };
}

async function maxEventId(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query('select coalesce(max(id), 0)::bigint as id from ticket_events');
  return Number(rows[0].id);
}

async function eventsSince(pool: pg.Pool, sinceId: number): Promise<{ events: number; batches: number }> {
  // The relay marks each batch with one statement, so one dispatched_at (the statement's now()) per batch.
  const { rows } = await pool.query(
    `select count(*)::int as events, count(distinct dispatched_at)::int as batches from ticket_events where id > $1`,
    [sinceId],
  );
  return { events: rows[0].events, batches: rows[0].batches };
}

const per = (n: number, events: number) => {
  const value = n / events;
  return value === 0 ? '0' : value < 0.1 ? value.toFixed(3) : value.toFixed(2);
};

/** The operations of a scenario, per event, then absolute, in the order of the report. */
export function opColumns(counts: OpCounts, events: number) {
  const keys: Array<keyof OpCounts> = ['starts', 'signals', 'workflowTasks', 'activityTasks', 'localActivities'];
  return {
    perEvent: keys.map((k) => per(counts[k], events)),
    absolute: keys.map((k) => String(counts[k])),
  };
}

function describeReport(result: ScenarioResult): string {
  const types = [...result.report.byWorkflowType]
    .map(
      ([type, c]) =>
        `${type} ${c.starts}s/${c.signals}sig/${c.workflowTasks}wt/${c.activityTasks}at/${c.localActivities}la`,
    )
    .join(', ');
  const signals = [...result.report.signalsByName].map(([name, n]) => `${name}×${n}`).join(', ');
  const problems = [...result.report.problems].map(([what, n]) => `${what} ×${n}`).join(', ');
  return [
    `${result.eventsInWindow} events in ${result.batches} relay batches, ${result.report.executions} executions`,
    types,
    signals && `signals ${signals}`,
    problems,
    result.note,
  ]
    .filter(Boolean)
    .join('; ');
}

export function printOps(results: ScenarioResult[], server: string): void {
  console.log(`\nTemporal operations per ticket event (${server}; counted from the histories of the window):`);
  const headers = ['event', 'starts', 'signals', 'workflow tasks', 'activity tasks', 'local activities'];
  printTable(
    headers,
    results.map((r) => [r.label, ...opColumns(r.report.total, r.events).perEvent]),
  );
  console.log(`\nAbsolute counts (${EVENTS} events per scenario):`);
  printTable(
    [...headers, 'timers', 'other', 'events in window', 'relay batches', 'wakes / (endpoint × batch)'],
    results.map((r) => {
      const c = r.report.total;
      const other = [
        c.continuedAsNew ? `${c.continuedAsNew} continue-as-new` : '',
        c.activityRetries ? `${c.activityRetries} activity retries` : '',
        c.workflowTaskFailures ? `${c.workflowTaskFailures} failed workflow tasks` : '',
      ]
        .filter(Boolean)
        .join(', ');
      const wakes = r.report.byWorkflowType.get('webhookEndpointWorkflow')?.signals ?? 0;
      return [
        r.label,
        ...opColumns(c, r.events).absolute,
        c.timers,
        other || '-',
        r.eventsInWindow,
        r.batches,
        r.endpoints ? (wakes / (r.endpoints * r.batches)).toFixed(2) : '-',
      ];
    }),
  );
  console.log('\nBy workflow type and signal:');
  for (const r of results) console.log(`  ${r.label}: ${describeReport(r)}`);
}
