// Slack benchmark (issue 12), with the product's own API and worker processes, its own Temporal dev server, real
// PostgreSQL, and the strict local Slack (test/fakes/slack) in this process:
//   latency:  BENCH_SLACK_EVENTS (400) ticket events at BENCH_SLACK_RATE (20) a second, spread over 10 channels
//             (one channel rule per tag; each ticket tagged for one channel): half new tickets (their message is
//             posted), half status changes of tickets posted earlier (a thread reply and an edit of the message).
//             Latency: the event's ticket_events.created_at (the database's clock, on this machine) → the stand-in
//             receiving the Slack call it caused (chat.postMessage for a new ticket, the thread reply for a change).
//   ceiling:  a plain @slack/web-api chat.postMessage loop at the same rate over the same 10 channels of the same
//             stand-in: the Slack call's own latency, with nothing in front of it.
//   ack:      BENCH_SLACK_ACKS (500) slash commands and button clicks at BENCH_SLACK_ACK_RATE (50) a second, signed
//             as Slack signs them, each timed from send to our HTTP answer (Slack gives up after 3 s).
// Targets: event → Slack call p99 under 1 s at 20 events/s; acknowledgement p99 under 300 ms at 50/s.
//
// Run: npm run bench -- slack. BENCH_LOG_DIR keeps the processes' output.
import { readFileSync } from 'node:fs';
import { WebClient } from '@slack/web-api';
import { createSlackFake } from '../test/fakes/slack/server.ts';
import { slackEnv } from '../test/slack-support.ts';
import { runOpenLoop } from './lib/open-loop.ts';
import type { Started } from './lib/processes.ts';
import { apiClient, benchStack } from './lib/stack.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const EVENTS = Number(process.env.BENCH_SLACK_EVENTS ?? 400);
const RATE = Number(process.env.BENCH_SLACK_RATE ?? 20);
const ACKS = Number(process.env.BENCH_SLACK_ACKS ?? 500);
const ACK_RATE = Number(process.env.BENCH_SLACK_ACK_RATE ?? 50);
const CHANNELS = 10;
const TEAM = 'T0ACME001';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function summary(name: string, values: number[], target?: string): Array<string | number> {
  return [
    name,
    values.length,
    formatMs(median(values)),
    formatMs(percentile(values, 99)),
    formatMs(Math.max(...values)),
    target ?? '',
  ];
}

/** Latencies in windows of `ms` by when their event happened. */
function groupByWindow(items: Array<{ eventAt: number; ms: number }>, from: number, ms: number): number[][] {
  const windows: number[][] = [];
  for (const { eventAt, ms: value } of items) {
    const k = Math.floor((eventAt - from) / ms);
    windows[k] = [...(windows[k] ?? []), value];
  }
  return Array.from(windows, (w) => w ?? []);
}

async function main() {
  const slack = await createSlackFake({ preinstall: false, botMemberOf: [] });
  const stack = benchStack('slack', { api: 3093, temporal: 7293, temporalUi: 8293 });
  Object.assign(stack.env, slackEnv(slack));
  // An experiment's worker cache size (the default is the product's, common/config.ts).
  if (process.env.WORKER_MAX_CACHED_WORKFLOWS)
    stack.env.WORKER_MAX_CACHED_WORKFLOWS = process.env.WORKER_MAX_CACHED_WORKFLOWS;
  console.log(
    `slack benchmark: ${EVENTS} events at ${RATE}/s over ${CHANNELS} channels; ${ACKS} interactions at ` +
      `${ACK_RATE}/s; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  const channels = Array.from({ length: CHANNELS }, (_, i) => {
    const id = `C0BENCH${String(i).padStart(3, '0')}`;
    slack.store.addChannel(TEAM, { id, name: `desk-${i}` });
    return id;
  });
  const adminSlackId = slack.store.addUser(TEAM, { name: 'admin', email: 'admin@acme.test', isAdmin: true }).id;

  await stack.prepare();
  const pool = stack.pool();
  let api: Started | undefined;
  let worker: Started | undefined;
  const rows: Array<Array<string | number>> = [];
  const notes: string[] = [];
  try {
    api = await stack.startApi();
    worker = await stack.startWorker();
    slack.setRequestUrl(`${stack.baseUrl}/api/slack/events`);
    const call = apiClient(stack.baseUrl, await stack.apiKey());

    // "Add to Slack", as the seeded admin's browser does it.
    const signIn = await fetch(`${stack.baseUrl}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: stack.baseUrl },
      body: JSON.stringify({ email: 'admin@acme.test', password: stack.env.SEED_ADMIN_PASSWORD }),
    });
    const session = signIn.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const start = await fetch(`${stack.baseUrl}/api/slack/install`, {
      method: 'POST',
      headers: { cookie: session, origin: stack.baseUrl },
    });
    const stateCookie = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .find((c) => c?.startsWith('slack-app-oauth-state='))!;
    const { authorizeUrl } = (await start.json()) as { authorizeUrl: string };
    const back = await fetch(slack.approveInstall(authorizeUrl, { teamId: TEAM, userId: adminSlackId }), {
      headers: { cookie: stateCookie },
      redirect: 'manual',
    });
    const integrationId = new URL(back.headers.get('location')!, stack.baseUrl).searchParams.get('integration');
    if (!integrationId) throw new Error(`install failed: ${back.headers.get('location')}`);
    await call('PATCH', `/api/integrations/${integrationId}`, {
      config: {
        rules: channels.map((channelId, i) => ({
          id: `desk-${i}`,
          name: `Desk ${i}`,
          channelId,
          // New tickets only: a change edits the ticket's message (chat.update) instead of posting in its thread,
          // so each channel gets one new message a second, within Slack's pace for a channel.
          kinds: ['new_ticket'],
          tags: [`desk-${i}`],
        })),
      },
    });

    // --- event → Slack call ---------------------------------------------------------------------------------------
    // Tickets that will change during the measurement are posted first (not measured).
    const changes = Math.floor(EVENTS / 2);
    const createTicket = (i: number, phase: string, desk = i % CHANNELS) =>
      call<{ id: string; number: number; version: number }>(
        'POST',
        '/api/tickets',
        { subject: `${phase} ${i}`, tags: [`desk-${desk}`] },
        201,
      );
    const earlier = await Promise.all(Array.from({ length: changes }, (_, i) => createTicket(i, 'Earlier')));
    const postedKeys = () =>
      new Set(
        slack
          .callsTo('chat.postMessage')
          .filter((c) => c.ok)
          .map((c) => (c.args.metadata as { event_payload?: { post_key?: string } })?.event_payload?.post_key),
      );
    for (const deadline = Date.now() + 120_000; ; ) {
      const posted = postedKeys();
      if (earlier.every((t, i) => posted.has(`parent/${t.id}/${channels[i % CHANNELS]}`))) break;
      if (Date.now() > deadline) throw new Error('the earlier tickets were not all posted');
      await sleep(200);
    }
    const callsBefore = slack.calls.length;
    let before = { worker: cpuSeconds(worker.child.pid!), api: cpuSeconds(api.child.pid!) };
    const createdAt = new Map<number, { id: string; number: number; channel: string }>();
    const load = await runOpenLoop({
      ratePerSecond: RATE,
      count: EVENTS,
      call: async (i) => {
        // Alternate: a new ticket, then a change of an earlier one.
        if (i % 2 === 0) {
          // The n-th new ticket goes to desk n mod 10: one new message per channel a second. (Before 2026-12-03 it
          // was desk i mod 10 of the even i, so five channels got two a second, twice Slack's pace.)
          const desk = (i / 2) % CHANNELS;
          const t = await createTicket(i, 'Measured', desk);
          createdAt.set(i, { ...t, channel: channels[desk]! });
        } else {
          const t = earlier[(i - 1) / 2]!;
          await call('PATCH', `/api/tickets/${t.id}`, { version: t.version, status: 'pending' });
        }
      },
    });
    if (load.errors > 0) throw new Error(`${load.errors} API calls failed: ${load.firstError}`);
    const created = [...createdAt.values()];
    const events = await pool.query<{ ticket: string; type: string; at: Date }>(
      `select support_request_id as ticket, type, created_at as at from ticket_events
        where (type = 'ticket.created' and support_request_id = any($1::uuid[]))
           or (type = 'ticket.status_changed' and support_request_id = any($2::uuid[]))`,
      [created.map((t) => t.id), earlier.map((t) => t.id)],
    );
    // A new ticket's Slack call is the post of its message (found by the key in its metadata); a status change's is
    // the first chat.update of that ticket's message after the change.
    const parentTs = new Map<string, string>(); // `${channel}/${ts}` → ticket id
    for (const c of slack.calls)
      if (c.method === 'chat.postMessage' && c.ok) {
        const key = (c.args.metadata as { event_payload?: { post_key?: string } })?.event_payload?.post_key;
        const ticket = key?.startsWith('parent/') ? key.split('/')[1] : undefined;
        if (ticket) parentTs.set(`${c.args.channel}/${(c.response as { ts: string }).ts}`, ticket);
      }
    const createdAtMs = new Map<string, number>();
    const changedAtMs = new Map<string, number>();
    for (const e of events.rows)
      (e.type === 'ticket.created' ? createdAtMs : changedAtMs).set(e.ticket, e.at.getTime());
    const latencies: number[] = [];
    // Apart, and by when the event happened: where the tail comes from (a kind of call, the start, a growing queue).
    const newLatencies: number[] = [];
    const changeLatencies: number[] = [];
    const byTime: Array<{ eventAt: number; ms: number }> = [];
    for (const deadline = Date.now() + 120_000; ; ) {
      const posted = new Map<string, number>();
      const edited = new Map<string, number>();
      for (const c of slack.calls.slice(callsBefore)) {
        if (!c.ok) continue;
        if (c.method === 'chat.postMessage') {
          const key = (c.args.metadata as { event_payload?: { post_key?: string } })?.event_payload?.post_key;
          const ticket = key?.split('/')[1];
          if (ticket && createdAtMs.has(ticket) && !posted.has(ticket)) posted.set(ticket, c.at.getTime());
        } else if (c.method === 'chat.update') {
          const ticket = parentTs.get(`${c.args.channel}/${c.args.ts}`);
          if (ticket && changedAtMs.has(ticket) && !edited.has(ticket) && c.at.getTime() >= changedAtMs.get(ticket)!)
            edited.set(ticket, c.at.getTime());
        }
      }
      if (posted.size >= createdAtMs.size && edited.size >= changedAtMs.size) {
        for (const [ticket, at] of posted) {
          latencies.push(at - createdAtMs.get(ticket)!);
          newLatencies.push(at - createdAtMs.get(ticket)!);
          byTime.push({ eventAt: createdAtMs.get(ticket)!, ms: at - createdAtMs.get(ticket)! });
        }
        for (const [ticket, at] of edited) {
          latencies.push(at - changedAtMs.get(ticket)!);
          changeLatencies.push(at - changedAtMs.get(ticket)!);
          byTime.push({ eventAt: changedAtMs.get(ticket)!, ms: at - changedAtMs.get(ticket)! });
        }
        break;
      }
      if (Date.now() > deadline)
        throw new Error(
          `only ${posted.size} of ${createdAtMs.size} new tickets and ${edited.size} of ${changedAtMs.size} changes reached Slack`,
        );
      await sleep(200);
    }
    const eventCpu = {
      worker: cpuSeconds(worker.child.pid!) - before.worker,
      api: cpuSeconds(api.child.pid!) - before.api,
    };
    rows.push(summary(`event → Slack call (${RATE}/s, ${CHANNELS} channels)`, latencies, 'p99 < 1000 ms'));
    rows.push(summary('  of which new tickets (chat.postMessage)', newLatencies));
    rows.push(summary('  of which changes (chat.update)', changeLatencies));
    const first = Math.min(...byTime.map((b) => b.eventAt));
    const windows = groupByWindow(byTime, first, 5000);
    notes.push(
      `event → call p50/p99 by 5 s of load: ${windows
        .map((w, k) => `${k * 5}–${k * 5 + 5} s ${formatMs(median(w))}/${formatMs(percentile(w, 99))}`)
        .join('; ')}`,
    );
    notes.push(
      `events: worker ${eventCpu.worker.toFixed(1)} s CPU, API ${eventCpu.api.toFixed(1)} s over ` +
        `${(load.durationMs / 1000).toFixed(1)} s; ${slack.calls.length - callsBefore} Slack calls ` +
        `(${((slack.calls.length - callsBefore) / EVENTS).toFixed(1)} per event: post, edit, join, permalink)`,
    );

    // --- ceiling: a plain chat.postMessage loop to the same stand-in ------------------------------------------------
    const client = new WebClient(slack.botTokenFor(TEAM), {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
    });
    const ceiling = await runOpenLoop({
      ratePerSecond: RATE,
      count: EVENTS,
      call: async (i) => {
        await client.chat.postMessage({ channel: channels[i % CHANNELS]!, text: `Ceiling ${i}` });
      },
    });
    if (ceiling.errors > 0) throw new Error(`${ceiling.errors} direct posts failed: ${ceiling.firstError}`);
    rows.push(summary(`direct chat.postMessage (${RATE}/s)`, ceiling.latenciesMs, 'ceiling'));

    // --- acknowledgements -------------------------------------------------------------------------------------------
    const parents = slack.calls
      .slice(callsBefore)
      .filter(
        (c) =>
          c.method === 'chat.postMessage' &&
          c.ok &&
          (c.args.metadata as { event_payload?: { post_key?: string } })?.event_payload?.post_key?.startsWith(
            'parent/',
          ),
      )
      .map((c) => ({ channel: c.args.channel as string, ts: (c.response as { ts: string }).ts }));
    const numbers = [...created, ...earlier].map((t) => t.number);
    // BENCH_SLACK_ACK_WORKER=stopped measures the acknowledgements alone (the worker applies them afterwards); by
    // default the worker runs beside them, as in production, competing for the same two cores.
    const workerStopped = process.env.BENCH_SLACK_ACK_WORKER === 'stopped';
    if (workerStopped) await worker.stop();
    before = { worker: workerStopped ? 0 : cpuSeconds(worker.child.pid!), api: cpuSeconds(api.child.pid!) };
    const benchCpuBefore = process.cpuUsage();
    const commandMs: number[] = [];
    const clickMs: number[] = [];
    const acks = await runOpenLoop({
      ratePerSecond: ACK_RATE,
      count: ACKS,
      call: async (i) => {
        if (i % 2 === 0) {
          const d = await slack.slashCommand({
            command: '/ticket',
            text: `comment ${numbers[i % numbers.length]} benchmark note ${i}`,
            userId: adminSlackId,
            channelId: channels[i % CHANNELS]!,
            teamId: TEAM,
          });
          if (d.status !== 200) throw new Error(`command answered ${d.status} after ${d.elapsedMs} ms: ${d.error}`);
          commandMs.push(d.elapsedMs);
        } else {
          const parent = parents[i % parents.length]!;
          const d = await slack.blockAction({
            userId: adminSlackId,
            channelId: parent.channel,
            messageTs: parent.ts,
            actionId: 'sb_assign_me',
            teamId: TEAM,
          });
          if (d.status !== 200) throw new Error(`click answered ${d.status} after ${d.elapsedMs} ms: ${d.error}`);
          clickMs.push(d.elapsedMs);
        }
      },
    });
    if (acks.errors > 0) notes.push(`${acks.errors} interactions got no answer in 3 s (first: ${acks.firstError})`);
    rows.push(summary(`slash command ack (${ACK_RATE / 2}/s)`, commandMs, 'p99 < 300 ms'));
    rows.push(summary(`button click ack (${ACK_RATE / 2}/s)`, clickMs, 'p99 < 300 ms'));
    rows.push(summary(`all acks (${ACK_RATE}/s)`, [...commandMs, ...clickMs], 'p99 < 300 ms'));
    const benchCpu = process.cpuUsage(benchCpuBefore);
    notes.push(
      `acks (worker ${workerStopped ? 'stopped' : 'running'}): API ${(cpuSeconds(api.child.pid!) - before.api).toFixed(1)} s CPU, ` +
        `the Slack stand-in and driver ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} s, over ` +
        `${(acks.durationMs / 1000).toFixed(1)} s`,
    );
    if (workerStopped) worker = await stack.startWorker();
    const applied = async () =>
      (await pool.query(`select count(*)::int as n from slack_inbound where status <> 'received'`)).rows[0].n as number;
    for (const deadline = Date.now() + 120_000; (await applied()) < ACKS && Date.now() < deadline; ) await sleep(500);
    notes.push(`interactions applied by the workflows afterwards: ${await applied()} of ${ACKS}`);
  } finally {
    await worker?.stop();
    await api?.stop();
    await pool.end();
    stack.stopTemporal();
    await slack.close();
  }
  printTable(['measure', 'n', 'p50 ms', 'p99 ms', 'max ms', 'target'], rows);
  const [event, direct] = [
    rows.find((r) => String(r[0]).startsWith('event → Slack call'))!,
    rows.find((r) => String(r[0]).startsWith('direct chat.postMessage'))!,
  ];
  console.log(
    `ratio p50 event→call / direct call: ${(Number(event[2]) / Number(direct[2])).toFixed(1)}×; ` +
      `p99: ${(Number(event[3]) / Number(direct[3])).toFixed(1)}×`,
  );
  for (const note of notes) console.log(note);
  process.exit(0);
}

await main();
