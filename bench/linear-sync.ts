// Linear sync benchmark (issue 4): sync lag in both directions over 200 changes across 20 links, with the product's
// own API and worker processes, its own Temporal dev server and real PostgreSQL, against the local Linear server
// (test/fakes/linear) running in this process.
//   Linear → ticket: a Linear user moves the issue (the fake sends the signed webhook) until the ticket's status
//                    follows (read from PostgreSQL every 5 ms).
//   ticket → Linear: an agent changes the ticket's status (the domain write the API makes) until the fake's issue
//                    changes state (the fake's change listener, so no polling delay).
// Each direction runs at every offered rate in BENCH_RATES (default 5 and 15 changes/s, round robin over the links).
// Baselines in the same run, the floor each direction cannot beat: one ticket write through the domain, and one
// `issueUpdate` round trip through @linear/sdk to the same fake.
//
// Run: npm run bench -- linear-sync
import { LinearClient } from '@linear/sdk';
import { connectDatabase } from '@switchboard/database';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { updateTicket } from '../domain/tickets/update-ticket.ts';
import { installLinear, linearFakeFor } from './lib/linear.ts';
import type { Started } from './lib/processes.ts';
import { apiClient, benchStack, userScope } from './lib/stack.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const LINKS = Number(process.env.BENCH_LINKS ?? 20);
const CHANGES_PER_LINK = Number(process.env.BENCH_CHANGES_PER_LINK ?? 10);
/**
 * Offered load, in changes per second in one direction, spread evenly over the links (round robin). A link's next
 * change waits for its previous one to have arrived (so each change is measured on its own), but not past its
 * scheduled time: the lag is measured from when a change was made, whatever the backlog.
 */
const RATES = (process.env.BENCH_RATES ?? '5,15').split(',').map(Number);
const TIMEOUT_MS = 30_000;

async function main() {
  const stack = benchStack('linear', { api: 3085, temporal: 7285, temporalUi: 8285 });
  const linear = await linearFakeFor(stack);
  console.log(
    `linear-sync benchmark: ${LINKS} links, ${LINKS * CHANGES_PER_LINK} changes each way at ${RATES.join(' and ')} changes/s`,
  );
  await stack.prepare();
  const database = connectDatabase(stack.databaseUrl, 8);
  let api: Started | undefined;
  let worker: Started | undefined;
  try {
    api = await stack.startApi();
    worker = await stack.startWorker();
    const call = apiClient(stack.baseUrl, await stack.apiKey());
    const scope = await userScope(call);

    const { team } = await installLinear(call, linear, { commentsToLinear: 'none', syncPriority: false });
    const todo = linear.state.stateByName(team.id, 'Todo')!;
    const inProgress = linear.state.stateByName(team.id, 'In Progress')!;

    const links: Array<{ ticketId: string; issueId: string; version: number }> = [];
    for (let i = 0; i < LINKS; i++) {
      const ticket = await createTicket(database.db, scope, { subject: `Bench link ${i}` });
      const link = await call<{ issueId: string }>(
        'POST',
        `/api/tickets/${ticket.id}/linear-links`,
        { action: 'create' },
        201,
      );
      links.push({ ticketId: ticket.id, issueId: link.issueId, version: ticket.version });
    }
    // Let each link's first sync settle (the new issue starts in Todo, the ticket is open: already in agreement).
    await waitFor(async () => {
      const { rows } = await database.pool.query(
        `select count(*)::int as n from external_sync_records where sync_status = 'synced'`,
      );
      return rows[0].n === LINKS;
    }, 'every link synced once');

    const stateWaiters = new Map<string, () => void>();
    linear.state.onChange((change) => {
      if (change.type !== 'Issue') return;
      const issue = change.snapshot as { id: string; stateId: string };
      stateWaiters.get(`${issue.id}:${issue.stateId}`)?.();
    });
    const results: Array<{ rate: number; linearToTicket: number[]; ticketToLinear: number[] }> = [];
    for (const rate of RATES) {
      // --- Linear → ticket
      const linearToTicket: number[] = [];
      const intervalMs = (LINKS * 1000) / rate;
      let phaseStart = performance.now();
      await Promise.all(
        links.map(async (link, l) => {
          for (let c = 0; c < CHANGES_PER_LINK; c++) {
            await sleepUntil(phaseStart + c * intervalMs + (l * intervalMs) / LINKS);
            const toStarted = c % 2 === 0;
            const started = performance.now();
            linear.simulate.updateIssue(link.issueId, { stateId: (toStarted ? inProgress : todo).id });
            const want = toStarted ? 'pending' : 'open';
            await waitFor(
              async () => {
                const { rows } = await database.pool.query(
                  'select status, version from support_requests where id = $1',
                  [link.ticketId],
                );
                if (rows[0].status !== want) return false;
                link.version = rows[0].version;
                return true;
              },
              `ticket ${link.ticketId} → ${want}`,
              5,
            );
            linearToTicket.push(performance.now() - started);
          }
        }),
      );

      // --- ticket → Linear
      const ticketToLinear: number[] = [];
      phaseStart = performance.now();
      await Promise.all(
        links.map(async (link, l) => {
          for (let c = 0; c < CHANGES_PER_LINK; c++) {
            await sleepUntil(phaseStart + c * intervalMs + (l * intervalMs) / LINKS);
            const toPending = c % 2 === 0;
            const wantState = (toPending ? inProgress : todo).id;
            const arrived = new Promise<void>((resolve) => stateWaiters.set(`${link.issueId}:${wantState}`, resolve));
            const started = performance.now();
            const updated = await updateTicket(database.db, scope, link.ticketId, {
              version: link.version,
              status: toPending ? 'pending' : 'open',
            });
            link.version = updated.version;
            await withTimeout(arrived, `issue ${link.issueId} → ${wantState}`);
            ticketToLinear.push(performance.now() - started);
          }
        }),
      );
      results.push({ rate, linearToTicket, ticketToLinear });
      await sleep(2000); // let the echoes of the last changes settle before the next load
    }

    // --- Baselines: the same two writes with nothing in between.
    const domainWrite: number[] = [];
    const sdkWrite: number[] = [];
    const client = new LinearClient({ apiKey: linear.apiKey, apiUrl: linear.graphqlUrl });
    const probe = await createTicket(database.db, scope, { subject: 'Bench baseline' });
    let version = probe.version;
    const probeIssue = (await client.createIssue({ teamId: team.id, title: 'Baseline' })).issueId!;
    for (let i = 0; i < LINKS * CHANGES_PER_LINK; i++) {
      let started = performance.now();
      version = (await updateTicket(database.db, scope, probe.id, { version, status: i % 2 ? 'open' : 'pending' }))
        .version;
      domainWrite.push(performance.now() - started);
      started = performance.now();
      await client.updateIssue(probeIssue, { stateId: (i % 2 ? todo : inProgress).id });
      sdkWrite.push(performance.now() - started);
    }

    const row = (name: string, values: number[], baseline: number[]) => [
      name,
      values.length,
      formatMs(median(values)),
      formatMs(percentile(values, 99)),
      formatMs(Math.max(...values)),
      (median(values) / median(baseline)).toFixed(1),
    ];
    printTable(
      ['direction', 'changes', 'p50', 'p99', 'max', 'p50 / floor p50'],
      [
        ...results.flatMap((r) => [
          row(`${r.rate}/s Linear → ticket (webhook to ticket updated)`, r.linearToTicket, domainWrite),
          row(`${r.rate}/s ticket → Linear (ticket write to issue updated)`, r.ticketToLinear, sdkWrite),
        ]),
        row('floor: ticket write through the domain', domainWrite, domainWrite),
        row('floor: issueUpdate through @linear/sdk', sdkWrite, sdkWrite),
      ],
    );
    linear.assertNoRejectedOperations();
  } finally {
    await worker?.stop();
    await api?.stop();
    await database.close();
    stack.stopTemporal();
    await linear.close();
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function withTimeout(promise: Promise<void>, what: string): Promise<void> {
  return Promise.race([
    promise,
    sleep(TIMEOUT_MS).then(() => {
      throw new Error(`timed out waiting for ${what}`);
    }),
  ]);
}

function sleepUntil(at: number): Promise<void> {
  return sleep(Math.max(0, at - performance.now()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
