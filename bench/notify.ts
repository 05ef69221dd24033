// Notifications benchmark (issue 13), with the product's own API and worker processes, its own Temporal dev server
// and database, all in one command:
//   immediate: BENCH_NOTIFY_EVENTS (2000) comment.created events at BENCH_NOTIFY_RATE (200) a second, over 20
//              tickets, each ticket tagged for one of 20 members, one in-app rule per member (by tag). Latency: the
//              event's ticket_events.created_at → the in-app row's notifications.sent_at (both the database's clock).
//              Ceiling, same command: the same events with every one of those rules switched off, so the relay only
//              routes them (matching nothing) and dispatches them: created_at → dispatched_at.
//              Sources (BENCH_NOTIFY_SOURCES, default `api,outbox`): `api` is POST /api/tickets/:id/comments with an
//              API key; `outbox` writes the event as the outbox does (the ticket row locked, the ticket_events row
//              modelled on a real comment's, pg_notify, one transaction; only the comment row is left out), for the
//              rate the API cannot keep on this machine; `domain` is addComment() in this process.
//   rules:     routeEvents(db, events, publicUrl) in this process against the stack's database, for one batch of
//              BENCH_NOTIFY_ROUTE_EVENTS (500) comment.created events, in an organisation with 10 rules and in an
//              identical one with 1,000 (the same 10 plus 990 that the comments do not match: other triggers, or
//              conditions on tags, priorities, statuses and requester domains they fail), interleaved,
//              BENCH_NOTIFY_ROUTE_REPS (15) timed repetitions each after one untimed; the rows each made are deleted
//              before the next. EXPLAIN ANALYZE of the matching statement for both is written to .data/.
//   digest:    BENCH_NOTIFY_DIGEST_EVENTS (10,000) comments over 100 tickets, each assigned to its own member, under
//              one rule `{ delivery: { mode: 'digest', windowMinutes: 1, groupBy: 'recipient' } }`: how many digests
//              (target: exactly one per recipient), how many rows were digested into them, and the time from the
//              last event to the last digest. Written by the outbox's statements at BENCH_NOTIFY_DIGEST_RATE (500)
//              a second in chunks of 50 (BENCH_NOTIFY_DIGEST_SOURCE=domain: addComment(), 16 at a time), so that
//              they all fall within the one-minute window.
// Targets: immediate p99 < 1 s at 200 events/s; 1,000 rules at most 2× the time of 10; exactly 100 digests.
//
// Run: npm run bench -- notify. BENCH_NOTIFY_PARTS=immediate,rules,digest picks parts; BENCH_LOG_DIR keeps the
// processes' output.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  connectDatabase,
  type Database,
  member,
  OUTBOX_CHANNEL,
  organization,
  ticketEvents,
  user,
} from '@switchboard/database';
import { type SQL, sql } from 'drizzle-orm';
import type { RoutableEvent } from '../activities/notifications/render.ts';
import { candidateRules, eventsRelation, matchingQuery, routeEvents } from '../activities/notifications/route.ts';
import type { Role } from '../common/enums.ts';
import { createRule } from '../domain/notifications/rules.ts';
import type { CreateRuleInput } from '../domain/notifications/schemas.ts';
import type { Scope } from '../domain/scope.ts';
import { addComment } from '../domain/tickets/comments.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { runOpenLoop } from './lib/open-loop.ts';
import { repoRoot, type Started } from './lib/processes.ts';
import { apiClient, benchStack, userScope, waitForOutboxEmpty } from './lib/stack.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const EVENTS = Number(process.env.BENCH_NOTIFY_EVENTS ?? 2000);
const RATE = Number(process.env.BENCH_NOTIFY_RATE ?? 200);
const MEMBERS = Number(process.env.BENCH_NOTIFY_MEMBERS ?? 20);
const SOURCES = (process.env.BENCH_NOTIFY_SOURCES ?? 'api,outbox').split(',').filter(Boolean);
const PARTS = (process.env.BENCH_NOTIFY_PARTS ?? 'immediate,rules,digest').split(',');
const ROUTE_EVENTS = Number(process.env.BENCH_NOTIFY_ROUTE_EVENTS ?? 500);
const ROUTE_REPS = Number(process.env.BENCH_NOTIFY_ROUTE_REPS ?? 15);
const MANY_RULES = Number(process.env.BENCH_NOTIFY_MANY_RULES ?? 1000);
const DIGEST_EVENTS = Number(process.env.BENCH_NOTIFY_DIGEST_EVENTS ?? 10_000);
const DIGEST_RECIPIENTS = Number(process.env.BENCH_NOTIFY_DIGEST_RECIPIENTS ?? 100);
/** `outbox` (default): events written as the outbox writes them, BENCH_NOTIFY_DIGEST_RATE a second; `domain`: addComment(), 16 at a time, as fast as it goes. */
const DIGEST_SOURCE = process.env.BENCH_NOTIFY_DIGEST_SOURCE ?? 'outbox';
const DIGEST_RATE = Number(process.env.BENCH_NOTIFY_DIGEST_RATE ?? 500);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stack = benchStack(process.env.BENCH_STACK_NAME ?? 'notify', {
  api: Number(process.env.BENCH_API_PORT ?? 3094),
  temporal: Number(process.env.BENCH_TEMPORAL_PORT ?? 7294),
  temporalUi: Number(process.env.BENCH_TEMPORAL_UI_PORT ?? 8294),
});
const temporalPort = stack.env.TEMPORAL_ADDRESS!.split(':')[1]!;

type Db = Database;
let sharedPool: ReturnType<typeof stack.pool> | undefined;
/** One small pool for the outbox checks, made once. */
const outboxPool = () => {
  sharedPool ??= stack.pool();
  return sharedPool;
};
type Ticket = { id: string };

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The benchmark's Temporal dev server (found by its port on the command line). */
function temporalPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('start-dev') && cmd.includes(temporalPort)) return Number(entry);
    } catch {}
  }
  return undefined;
}

/** CPU seconds of each PostgreSQL process now alive (other databases on this machine included). */
function postgresCpu(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres')
        byPid.set(Number(entry), cpuSeconds(Number(entry)));
    } catch {}
  }
  return byPid;
}

/** What PostgreSQL used between two looks: backends that started in between count whole, ended ones are lost. */
function postgresDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** The machine's busy and total jiffies. */
function machineCpu(): { busy: number; total: number } {
  const [, ...n] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - n[3]! - n[4]!, total };
}

/** CPU used by each part of the stack between start() and the returned function's call. */
function cpuMeter(procs: { worker?: Started; api?: Started }) {
  const tpid = temporalPid();
  const take = () => ({
    worker: cpuSeconds(procs.worker?.child.pid),
    api: cpuSeconds(procs.api?.child.pid),
    temporal: cpuSeconds(tpid),
    postgres: postgresCpu(),
    bench: process.cpuUsage(),
    machine: machineCpu(),
    at: performance.now(),
  });
  const before = take();
  return () => {
    const after = take();
    const seconds = (after.at - before.at) / 1000;
    const bench = process.cpuUsage(before.bench);
    const pct = (s: number) => `${Math.round((100 * s) / seconds)}%`;
    const busy = (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total);
    return (
      `over ${seconds.toFixed(1)} s: machine ${Math.round(busy * 100)}% busy of ${cpus().length} cores; ` +
      `worker ${pct(after.worker - before.worker)}, API ${pct(after.api - before.api)}, ` +
      `Temporal ${pct(after.temporal - before.temporal)}, PostgreSQL (all) ${pct(postgresDelta(before.postgres, after.postgres))}, ` +
      `this process ${pct((bench.user + bench.system) / 1e6)} of a core`
    );
  };
}

/** An organisation made directly in the database, with `n` members (the bench's fixture; no invitation mails). */
async function makeOrganization(db: Db, label: string) {
  const organizationId = randomUUID();
  await db.insert(organization).values({ id: organizationId, name: `Bench ${label}`, slug: `bench-${organizationId}` });
  return organizationId;
}

async function addMembers(db: Db, organizationId: string, n: number, role: Role = 'agent'): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  if (n === 0) return ids;
  await db.insert(user).values(ids.map((id, i) => ({ id, name: `Bench member ${i}`, email: `${id}@bench.test` })));
  await db.insert(member).values(ids.map((userId) => ({ id: randomUUID(), organizationId, userId, role })));
  return ids;
}

const scopeFor = (organizationId: string, userId: string): Scope => ({
  organizationId,
  actor: { type: 'user', id: userId },
  userId,
});

async function maxEventId(db: Db): Promise<number> {
  const r = await db.execute<{ n: string | null }>(sql`select max(id) as n from ticket_events`);
  return Number(r.rows[0]?.n ?? 0);
}

type Template = { ticketId: string; payload: Record<string, unknown>; actorType: string; actorId: string | null };

/** Each ticket's latest comment.created event: the model of the events written straight into the outbox. */
async function commentTemplates(db: Db, organizationId: string): Promise<Map<string, Template>> {
  const rows = await db.execute<{
    ticket: string;
    payload: Record<string, unknown>;
    actor_type: string;
    actor_id: string | null;
  }>(sql`
    select distinct on (support_request_id) support_request_id as ticket, payload, actor_type, actor_id
    from ticket_events where organization_id = ${organizationId} and type = 'comment.created'
    order by support_request_id, id desc`);
  return new Map(
    rows.rows.map((r) => [
      r.ticket,
      { ticketId: r.ticket, payload: r.payload, actorType: r.actor_type, actorId: r.actor_id },
    ]),
  );
}

/**
 * Writes comment.created events as the outbox does (packages/database/src/outbox.ts): in one transaction, the
 * tickets' rows locked, the events inserted, and the NOTIFY the relay listens for. The relay cannot tell them from
 * a comment's; only the comment row itself is left out, so the rate is the outbox's and not the API's.
 */
async function writeOutboxEvents(db: Db, organizationId: string, events: Array<{ template: Template; n: number }>) {
  await db.transaction(async (tx) => {
    const ids = [...new Set(events.map((e) => e.template.ticketId))].sort();
    await tx.execute(
      sql`select 1 from support_requests where id = any(${sql.param(ids)}::uuid[]) order by id for update`,
    );
    await tx.insert(ticketEvents).values(
      events.map(({ template, n }) => ({
        organizationId,
        supportRequestId: template.ticketId,
        type: 'comment.created',
        payload: {
          ...template.payload,
          comment: { ...(template.payload.comment as object), body: `Outbox note ${n}` },
        },
        actorType: template.actorType as typeof ticketEvents.$inferInsert.actorType,
        actorId: template.actorId,
      })),
    );
    await tx.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, '')`);
  });
}

// --- immediate path ----------------------------------------------------------------------------------------------

type PhaseResult = {
  label: string;
  achievedPerSecond: number;
  errors: number;
  firstError?: string;
  callP50: number;
  callP99: number;
  dispatchMs: number[];
  sentMs: number[];
  cpu: string;
  loadBefore: string;
  loadAfter: string;
};

async function immediatePhase(opts: {
  db: Db;
  organizationId: string;
  label: string;
  withRules: boolean;
  emit: (i: number) => Promise<void>;
  procs: { worker?: Started; api?: Started };
}): Promise<PhaseResult> {
  const { db, organizationId } = opts;
  await waitForOutboxEmpty(outboxPool());
  const sinceId = await maxEventId(db);
  const loadBefore = load();
  const meter = cpuMeter(opts.procs);
  const run = await runOpenLoop({ ratePerSecond: RATE, count: EVENTS, call: opts.emit });
  // The API may drop calls it cannot keep up with: they are reported, and the events it did write are measured.
  if (run.errors === EVENTS) throw new Error(`${opts.label}: every event failed: ${run.firstError}`);
  await waitForOutboxEmpty(outboxPool(), 300_000);
  const query = () =>
    db.execute<{ dispatch_ms: number | null; sent_ms: number | null; created: string }>(sql`
      select extract(epoch from e.dispatched_at - e.created_at) * 1000 as dispatch_ms,
             extract(epoch from n.sent_at - e.created_at) * 1000 as sent_ms,
             extract(epoch from e.created_at) as created
      from ticket_events e
      left join notifications n on n.event_id = e.id and n.channel = 'in_app'
      where e.id > ${sinceId} and e.organization_id = ${organizationId} and e.type = 'comment.created'`);
  let rows = (await query()).rows;
  for (const deadline = Date.now() + 300_000; ; ) {
    const done =
      rows.length >= EVENTS - run.errors &&
      rows.every((r) => r.dispatch_ms !== null && (!opts.withRules || r.sent_ms !== null));
    if (done) break;
    if (Date.now() > deadline) {
      const dispatched = rows.filter((r) => r.dispatch_ms !== null).length;
      const sent = rows.filter((r) => r.sent_ms !== null).length;
      throw new Error(`${opts.label}: ${rows.length} events, ${dispatched} dispatched, ${sent} sent after 5 minutes`);
    }
    await sleep(250);
    rows = (await query()).rows;
  }
  const cpu = meter();
  if (!opts.withRules && rows.some((r) => r.sent_ms !== null))
    throw new Error(`${opts.label}: notifications were made with the rules switched off`);
  const created = rows.map((r) => Number(r.created));
  const writeSeconds = Math.max(...created) - Math.min(...created);
  return {
    label: opts.label,
    achievedPerSecond: (rows.length - 1) / writeSeconds,
    errors: run.errors,
    firstError: run.firstError,
    callP50: median(run.latenciesMs),
    callP99: percentile(run.latenciesMs, 99),
    dispatchMs: rows.map((r) => Number(r.dispatch_ms)),
    sentMs: opts.withRules ? rows.map((r) => Number(r.sent_ms)) : [],
    cpu,
    loadBefore,
    loadAfter: load(),
  };
}

async function measureImmediate(
  db: Db,
  call: ReturnType<typeof apiClient>,
  scope: Scope,
  procs: { worker?: Started; api?: Started },
) {
  const members = await addMembers(db, scope.organizationId, MEMBERS);
  const tickets = await Promise.all(
    members.map((_, i) =>
      call<Ticket>('POST', '/api/tickets', { subject: `Notify ${i}`, tags: [`member-${i}`], priority: 'normal' }, 201),
    ),
  );
  const rules: Array<{ id: string }> = [];
  for (const [i, userId] of members.entries())
    rules.push(
      await call<{ id: string }>(
        'POST',
        '/api/notifications/rules',
        {
          name: `Comments for member ${i}`,
          triggerEvents: ['comment.created'],
          conditions: { tags: [`member-${i}`] },
          recipients: [{ type: 'user', userId }],
          channels: ['in_app'],
        },
        201,
      ),
    );
  const setRules = (isActive: boolean) =>
    Promise.all(rules.map((r) => call('PATCH', `/api/notifications/rules/${r.id}`, { isActive })));
  let templates: Template[] = [];
  const emitters: Record<string, (i: number) => Promise<void>> = {
    outbox: (i) => writeOutboxEvents(db, scope.organizationId, [{ template: templates[i % templates.length]!, n: i }]),
    api: (i) =>
      call(
        'POST',
        `/api/tickets/${tickets[i % tickets.length]!.id}/comments`,
        {
          body: `Benchmark note ${i}`,
          isPublic: false,
        },
        201,
      ).then(
        () => {},
        // fetch's own message ("fetch failed") hides what happened to the connection.
        (error: Error) => {
          throw new Error(`${error.message}: ${String((error.cause as Error | undefined)?.message ?? '')}`);
        },
      ),
    domain: (i) =>
      addComment(db, scope, tickets[i % tickets.length]!.id, { body: `Benchmark note ${i}`, isPublic: false }).then(
        () => {},
      ),
  };
  // Warm-up (not measured): JIT, connections, and every member's workflow started, as on a live desk.
  for (let i = 0; i < 200; i++) await emitters.domain!(i);
  await waitForOutboxEmpty(outboxPool());
  const byTicket = await commentTemplates(db, scope.organizationId);
  templates = tickets.map((t) => byTicket.get(t.id)!);
  await sleep(2_000);

  const results: PhaseResult[] = [];
  for (const source of SOURCES) {
    const emit = emitters[source];
    if (!emit) throw new Error(`BENCH_NOTIFY_SOURCES: unknown source ${source}`);
    await setRules(false);
    results.push(
      await immediatePhase({
        db,
        organizationId: scope.organizationId,
        label: `${source}, ceiling`,
        withRules: false,
        emit,
        procs,
      }),
    );
    console.log(`immediate ${source} ceiling done (load ${load()})`);
    await setRules(true);
    results.push(
      await immediatePhase({
        db,
        organizationId: scope.organizationId,
        label: `${source}, in-app`,
        withRules: true,
        emit,
        procs,
      }),
    );
    console.log(`immediate ${source} in-app done (load ${load()})`);
  }
  // Off, so that the later parts' events in this organisation meet none of them.
  await setRules(false);
  return results;
}

// --- rule evaluation cost ----------------------------------------------------------------------------------------

const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const STATUSES = ['open', 'pending', 'solved', 'closed'] as const;

/** The ten rules both organisations have: five that some comments match, five that none do. */
function baseRules(members: string[]): CreateRuleInput[] {
  const rule = (r: Omit<CreateRuleInput, 'channels'> & { channels?: CreateRuleInput['channels'] }) =>
    ({ channels: ['in_app'], ...r }) as CreateRuleInput;
  return [
    rule({
      name: 'Urgent comments to the assignee',
      triggerEvents: ['comment.created'],
      conditions: { priorities: ['urgent'] },
      recipients: [{ type: 'assignee' }],
    }),
    rule({
      name: 'Team 1 comments to admins',
      triggerEvents: ['comment.created'],
      conditions: { tags: ['team-1'] },
      recipients: [{ type: 'role', role: 'admin' }],
    }),
    rule({
      name: 'High open tickets to the lead',
      triggerEvents: ['comment.created', 'ticket.updated'],
      conditions: { statuses: ['open'], priorities: ['high'] },
      recipients: [{ type: 'user', userId: members[5]! }],
    }),
    rule({
      name: 'Product 2 comments, digested',
      triggerEvents: ['comment.created'],
      conditions: { tags: ['product-2'], assignee: 'assigned' },
      recipients: [{ type: 'assignee' }],
      delivery: { mode: 'digest', windowMinutes: 60, groupBy: 'ticket' },
    }),
    rule({
      name: 'Every comment, throttled, to the lead',
      triggerEvents: ['comment.created'],
      recipients: [{ type: 'user', userId: members[6]! }],
      delivery: { mode: 'throttle', limit: 5, windowMinutes: 10, key: 'ticket' },
    }),
    rule({
      name: 'Quiet tickets',
      triggerEvents: ['comment.created'],
      conditions: { minutesSinceLastReply: 120 },
      recipients: [{ type: 'assignee' }],
    }),
    rule({
      name: 'VIP comments',
      triggerEvents: ['comment.created'],
      conditions: { tags: ['vip'] },
      recipients: [{ type: 'team' }],
    }),
    rule({ name: 'New tickets', triggerEvents: ['ticket.created'], recipients: [{ type: 'assignee' }] }),
    rule({
      name: 'Solved',
      triggerEvents: ['ticket.status_changed'],
      conditions: { statuses: ['solved'] },
      recipients: [{ type: 'assignee' }],
    }),
    rule({
      name: 'Blocked files',
      triggerEvents: ['attachment.blocked'],
      recipients: [{ type: 'role', role: 'admin' }],
    }),
  ];
}

/** 990 more: varied triggers and conditions; the comment.created ones among them fail their conditions here. */
function extraRules(members: string[], n: number): CreateRuleInput[] {
  const triggers = [
    'ticket.created',
    'ticket.updated',
    'ticket.status_changed',
    'ticket.assigned',
    'comment.created',
    'sla.warning',
    'sla.breached',
    'attachment.blocked',
  ] as const;
  const recipients: CreateRuleInput['recipients'][] = [
    [{ type: 'assignee' }],
    [{ type: 'role', role: 'admin' }],
    [{ type: 'team' }],
    [{ type: 'assignee', whenUnassigned: 'team' }],
  ];
  return Array.from({ length: n }, (_, i) => {
    const trigger = triggers[i % triggers.length]!;
    const conditions: NonNullable<CreateRuleInput['conditions']> = {};
    // Every rule has a condition a comment on these tickets fails (a customer's tag, a requester's domain), besides
    // the ones it may pass; the rest vary so the statement meets every kind.
    if (i % 3 === 0) conditions.tags = [`customer-${i}`, `region-${i % 7}`];
    else conditions.requesterDomains = [`customer${i}.example.com`];
    if (i % 2 === 0) conditions.priorities = [PRIORITIES[i % 4]!, PRIORITIES[(i + 1) % 4]!];
    if (i % 5 === 0) conditions.statuses = [STATUSES[i % 4]!];
    if (i % 11 === 0) conditions.assignee = i % 2 ? 'assigned' : 'unassigned';
    const who =
      i % 9 === 0
        ? [{ type: 'user' as const, userId: members[i % members.length]! }]
        : recipients[i % recipients.length]!;
    return {
      name: `Rule ${i} (${trigger})`,
      triggerEvents: i % 4 === 0 ? [trigger, triggers[(i + 3) % triggers.length]!] : [trigger],
      conditions,
      recipients: who,
      channels: ['in_app'],
      delivery: i % 6 === 0 ? { mode: 'digest', windowMinutes: 15, groupBy: 'ticket' } : { mode: 'immediate' },
    } as CreateRuleInput;
  });
}

/** An organisation of 20 members (two admins) and 20 tickets, its `rules`, and `events` comments read back. */
async function routingOrganisation(db: Db, label: string, rules: (members: string[]) => CreateRuleInput[]) {
  const organizationId = await makeOrganization(db, label);
  const admins = await addMembers(db, organizationId, 2, 'admin');
  const agents = await addMembers(db, organizationId, 18, 'agent');
  const members = [...admins, ...agents];
  const author = scopeFor(organizationId, agents.at(-1)!);
  const tickets: Ticket[] = [];
  for (let j = 0; j < 20; j++)
    tickets.push(
      await createTicket(db, author, {
        subject: `Routing ${j}`,
        priority: PRIORITIES[j % 4],
        tags: [`team-${j % 5}`, `product-${j % 3}`],
        assigneeId: j % 4 === 3 ? undefined : members[j % members.length],
      }),
    );
  for (const r of rules(members)) await createRule(db, author, r);
  const sinceId = await maxEventId(db);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ROUTE_EVENTS) {
        const i = next++;
        await addComment(db, author, tickets[i % tickets.length]!.id, { body: `Routing note ${i}`, isPublic: false });
      }
    }),
  );
  const rows = await db.execute<Record<string, unknown>>(sql`
    select id, organization_id, support_request_id, type, payload, actor_type, actor_id, created_at
    from ticket_events where id > ${sinceId} and organization_id = ${organizationId} and type = 'comment.created'
    order by id`);
  // As the relay's subscriber makes them (activities/notifications/relay-subscriber.ts).
  const events: RoutableEvent[] = rows.rows.map((r) => ({
    eventId: Number(r.id),
    organizationId: r.organization_id as string,
    ticketId: r.support_request_id as string,
    type: r.type as string,
    payload: r.payload as Record<string, unknown>,
    actorUserId: r.actor_type === 'user' ? (r.actor_id as string) : null,
    createdAt: new Date(r.created_at as string).toISOString(),
    dedupeKey: `event:${r.id}`,
  }));
  const ruleCount = await db.execute<{ n: string }>(
    sql`select count(*) as n from notification_rules where organization_id = ${organizationId}`,
  );
  return { organizationId, events, rules: Number(ruleCount.rows[0]!.n) };
}

/**
 * The peer in the same run: the statement over every rule of the organisation (what routing did before it looked up
 * the candidate rules through the GIN index), to show what that lookup saves.
 */
const ALL_RULES = sql`notification_rules`;

async function measureRules(db: Db) {
  const few = await routingOrganisation(db, 'ten rules', (m) => baseRules(m));
  const many = await routingOrganisation(db, 'many rules', (m) => [...baseRules(m), ...extraRules(m, MANY_RULES - 10)]);
  await waitForOutboxEmpty(outboxPool());
  await db.execute(sql`analyze notification_rules`);
  await db.execute(sql`analyze notifications`);
  const clear = async (events: RoutableEvent[]) => {
    const ids = events.map((e) => e.eventId!);
    await db.execute(sql`delete from notification_alerts where event_id = any(${sql.param(ids)}::bigint[])`);
    await db.execute(sql`delete from notifications where event_id = any(${sql.param(ids)}::bigint[])`);
  };
  const times = {
    few: [] as number[],
    many: [] as number[],
    fewAll: [] as number[],
    manyAll: [] as number[],
  };
  const made = {
    few: new Set<number>(),
    many: new Set<number>(),
    fewAll: new Set<number>(),
    manyAll: new Set<number>(),
  };
  const meter = cpuMeter({});
  const loadBefore = load();
  const variants = ['few', 'many', 'fewAll', 'manyAll'] as const;
  for (let rep = 0; rep <= ROUTE_REPS; rep++) {
    // Rotated, so no variant always follows the same one.
    const order = variants.map((_, k) => variants[(k + rep) % variants.length]!);
    for (const which of order) {
      const org = which.startsWith('few') ? few : many;
      await clear(org.events);
      const started = performance.now();
      const routed = await routeEvents(db, org.events, stack.baseUrl, which.endsWith('All') ? ALL_RULES : undefined);
      const ms = performance.now() - started;
      // The first repetition warms the plan cache and the buffers; it is not counted.
      if (rep > 0) times[which].push(ms);
      made[which].add(routed.rowsInserted);
    }
  }
  const cpu = meter();
  const explain = async (org: typeof few, rulesFrom: SQL) => {
    await clear(org.events);
    const plan = await db.execute<{ 'QUERY PLAN': string }>(
      sql`explain (analyze, buffers) select count(*) from (${matchingQuery(eventsRelation(org.events, stack.baseUrl), rulesFrom)}) m`,
    );
    return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
  };
  const plans = {
    few: await explain(few, candidateRules(few.events)),
    many: await explain(many, candidateRules(many.events)),
    fewAll: await explain(few, ALL_RULES),
    manyAll: await explain(many, ALL_RULES),
  };
  await clear(few.events);
  await clear(many.events);
  mkdirSync(join(repoRoot, '.data'), { recursive: true });
  for (const [which, text] of Object.entries(plans))
    writeFileSync(join(repoRoot, `.data/bench-notify-plan-${which}.txt`), text);
  const execMs = (text: string) => Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? Number.NaN);
  return {
    few,
    many,
    times,
    made,
    plans,
    execMs: {
      few: execMs(plans.few),
      many: execMs(plans.many),
      fewAll: execMs(plans.fewAll),
      manyAll: execMs(plans.manyAll),
    },
    cpu,
    loadBefore,
  };
}

// --- digest ------------------------------------------------------------------------------------------------------

async function measureDigest(db: Db, procs: { worker?: Started; api?: Started }) {
  const organizationId = await makeOrganization(db, 'digest');
  const recipients = await addMembers(db, organizationId, DIGEST_RECIPIENTS, 'agent');
  const [authorId] = await addMembers(db, organizationId, 1, 'admin');
  const author = scopeFor(organizationId, authorId!);
  const tickets: Ticket[] = [];
  for (const [i, assigneeId] of recipients.entries())
    tickets.push(await createTicket(db, author, { subject: `Digest ${i}`, assigneeId }));
  // One real comment per ticket before the rule exists (not digested): the model of the outbox-written events.
  for (const t of tickets) await addComment(db, author, t.id, { body: 'Before the rule', isPublic: false });
  await waitForOutboxEmpty(outboxPool());
  const byTicket = await commentTemplates(db, organizationId);
  const templates = tickets.map((t) => byTicket.get(t.id)!);
  await createRule(db, author, {
    name: 'Comments, digested per person',
    triggerEvents: ['comment.created'],
    recipients: [{ type: 'assignee' }],
    channels: ['in_app'],
    delivery: { mode: 'digest', windowMinutes: 1, groupBy: 'recipient' },
  });
  const loadBefore = load();
  const meter = cpuMeter(procs);
  const sinceId = await maxEventId(db);
  const started = performance.now();
  if (DIGEST_SOURCE === 'outbox') {
    const chunk = 50;
    const run = await runOpenLoop({
      ratePerSecond: DIGEST_RATE / chunk,
      count: Math.ceil(DIGEST_EVENTS / chunk),
      call: (c) =>
        writeOutboxEvents(
          db,
          organizationId,
          Array.from({ length: Math.min(chunk, DIGEST_EVENTS - c * chunk) }, (_, k) => {
            const n = c * chunk + k;
            return { template: templates[n % templates.length]!, n };
          }),
        ),
    });
    if (run.errors) throw new Error(`digest: ${run.errors} chunks failed: ${run.firstError}`);
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < DIGEST_EVENTS) {
          const i = next++;
          await addComment(db, author, tickets[i % tickets.length]!.id, { body: `Digest note ${i}`, isPublic: false });
        }
      }),
    );
  }
  const writeSeconds = (performance.now() - started) / 1000;
  const count = () =>
    db.execute<{
      events: string;
      dispatched: string;
      rows: string;
      waiting: string;
      digested: string;
      with_digest: string;
      sent_alone: string;
      digests: string;
      first_event: Date;
      last_event: Date;
      first_digest: Date | null;
      last_digest: Date | null;
      last_routed: Date | null;
    }>(sql`
      select
        (select count(*) from ticket_events where id > ${sinceId} and organization_id = ${organizationId}) as events,
        (select count(*) from ticket_events where id > ${sinceId} and organization_id = ${organizationId}
           and dispatched_at is not null) as dispatched,
        (select min(created_at) from ticket_events where id > ${sinceId} and organization_id = ${organizationId})
          as first_event,
        (select max(created_at) from ticket_events where id > ${sinceId} and organization_id = ${organizationId})
          as last_event,
        count(*) filter (where event_type <> 'digest') as rows,
        count(*) filter (where event_type <> 'digest' and status in ('pending', 'deferred')) as waiting,
        count(*) filter (where event_type <> 'digest' and status = 'digested') as digested,
        count(*) filter (where event_type <> 'digest' and digest_id is not null) as with_digest,
        count(*) filter (where event_type <> 'digest' and status = 'sent') as sent_alone,
        count(*) filter (where event_type = 'digest') as digests,
        min(sent_at) filter (where event_type = 'digest') as first_digest,
        max(sent_at) filter (where event_type = 'digest') as last_digest,
        max(created_at) filter (where event_type <> 'digest') as last_routed
      from notifications where organization_id = ${organizationId}`);
  let c = (await count()).rows[0]!;
  for (const deadline = Date.now() + 300_000; ; ) {
    const settled =
      Number(c.events) >= DIGEST_EVENTS &&
      Number(c.dispatched) >= DIGEST_EVENTS &&
      Number(c.rows) >= DIGEST_EVENTS &&
      Number(c.waiting) === 0;
    if (settled || Date.now() > deadline) break;
    await sleep(500);
    c = (await count()).rows[0]!;
  }
  const cpu = meter();
  const at = (d: Date | null) => (d ? new Date(d).getTime() : Number.NaN);
  return {
    events: Number(c.events),
    writeSeconds,
    rows: Number(c.rows),
    waiting: Number(c.waiting),
    digested: Number(c.digested),
    withDigest: Number(c.with_digest),
    sentAlone: Number(c.sent_alone),
    digests: Number(c.digests),
    routedSpanS: (at(c.last_routed) - at(c.first_event)) / 1000,
    lastEventToLastDigestS: (at(c.last_digest) - at(c.last_event)) / 1000,
    firstEventToFirstDigestS: (at(c.first_digest) - at(c.first_event)) / 1000,
    cpu,
    loadBefore,
    loadAfter: load(),
  };
}

// --- main --------------------------------------------------------------------------------------------------------

async function main() {
  console.log(
    `notify benchmark: ${EVENTS} events at ${RATE}/s over ${MEMBERS} members (sources: ${SOURCES.join(', ')}); ` +
      `routing ${ROUTE_EVENTS} events with 10 vs ${MANY_RULES} rules × ${ROUTE_REPS}; digest ${DIGEST_EVENTS} events ` +
      `for ${DIGEST_RECIPIENTS} recipients; load average ${load()} (${cpus().length} CPUs)`,
  );
  await stack.prepare();
  const database = connectDatabase(stack.databaseUrl, 16);
  const db = database.db;
  const procs: { worker?: Started; api?: Started } = {};
  const notes: string[] = [];
  let immediate: PhaseResult[] = [];
  let rules: Awaited<ReturnType<typeof measureRules>> | undefined;
  let digest: Awaited<ReturnType<typeof measureDigest>> | undefined;
  try {
    procs.api = await stack.startApi();
    procs.worker = await stack.startWorker();
    const call = apiClient(stack.baseUrl, await stack.apiKey());
    const scope = await userScope(call);
    if (PARTS.includes('immediate')) immediate = await measureImmediate(db, call, scope, procs);
    if (PARTS.includes('rules')) {
      rules = await measureRules(db);
      console.log(`rules done (load ${load()})`);
    }
    if (PARTS.includes('digest')) {
      digest = await measureDigest(db, procs);
      console.log(`digest done (load ${load()})`);
    }
  } finally {
    await procs.worker?.stop();
    await procs.api?.stop();
    await database.close();
    await sharedPool?.end();
    stack.stopTemporal();
  }

  if (immediate.length) {
    console.log(`\nImmediate path: ${EVENTS} comment.created events at ${RATE}/s, ${MEMBERS} recipients`);
    const rows: Array<Array<string | number>> = [];
    for (const r of immediate) {
      const values = r.sentMs.length ? r.sentMs : r.dispatchMs;
      rows.push([
        `${r.label}: event → ${r.sentMs.length ? 'in-app sent' : 'dispatched'}`,
        values.length,
        r.achievedPerSecond.toFixed(0),
        formatMs(median(values)),
        formatMs(percentile(values, 99)),
        formatMs(Math.max(...values)),
        `${formatMs(r.callP50)} / ${formatMs(r.callP99)}`,
      ]);
      if (r.sentMs.length)
        rows.push([
          `${r.label}: event → dispatched`,
          r.dispatchMs.length,
          '',
          formatMs(median(r.dispatchMs)),
          formatMs(percentile(r.dispatchMs, 99)),
          formatMs(Math.max(...r.dispatchMs)),
          '',
        ]);
    }
    printTable(['measure', 'n', 'written/s', 'p50 ms', 'p99 ms', 'max ms', 'write call p50 / p99 ms'], rows);
    for (const source of SOURCES) {
      const ceiling = immediate.find((r) => r.label === `${source}, ceiling`);
      const inApp = immediate.find((r) => r.label === `${source}, in-app`);
      if (!ceiling || !inApp) continue;
      console.log(
        `${source}: in-app sent / ceiling dispatched: p50 ×${(median(inApp.sentMs) / median(ceiling.dispatchMs)).toFixed(1)}, ` +
          `p99 ×${(percentile(inApp.sentMs, 99) / percentile(ceiling.dispatchMs, 99)).toFixed(1)}; ` +
          `target p99 < 1000 ms: ${percentile(inApp.sentMs, 99) < 1000 ? 'met' : 'missed'}`,
      );
    }
    for (const r of immediate) {
      console.log(`${r.label}: load ${r.loadBefore} → ${r.loadAfter}; CPU ${r.cpu}`);
      if (r.errors) console.log(`${r.label}: ${r.errors} of ${EVENTS} writes failed (first: ${r.firstError})`);
    }
  }
  if (rules) {
    console.log(
      `\nRule evaluation: routeEvents() over ${ROUTE_EVENTS} comment.created events of one organisation, ` +
        `${ROUTE_REPS} repetitions each (interleaved, after one untimed)`,
    );
    const { few, many, times, made } = rules;
    const row = (label: string, which: keyof typeof times, explainMs: number) => [
      label,
      formatMs(median(times[which])),
      formatMs(Math.min(...times[which])),
      formatMs(Math.max(...times[which])),
      [...made[which]].join('/'),
      formatMs(explainMs),
    ];
    printTable(
      [
        'rules in the organisation',
        'median ms',
        'min ms',
        'max ms',
        'rows made',
        'matching statement, EXPLAIN ANALYZE ms',
      ],
      [
        row(`${few.rules} (candidate rules, as routing does)`, 'few', rules.execMs.few),
        row(`${many.rules} (candidate rules, as routing does)`, 'many', rules.execMs.many),
        row(`${few.rules}, peer: every rule of the organisation`, 'fewAll', rules.execMs.fewAll),
        row(`${many.rules}, peer: every rule of the organisation`, 'manyAll', rules.execMs.manyAll),
      ],
    );
    const ratio = median(times.many) / median(times.few);
    const peerRatio = median(times.manyAll) / median(times.fewAll);
    console.log(
      `ratio ${many.rules}/${few.rules} rules: ×${ratio.toFixed(2)} (target ≤ 2: ${ratio <= 2 ? 'met' : 'missed'}); ` +
        `EXPLAIN ANALYZE ratio ×${(rules.execMs.many / rules.execMs.few).toFixed(2)}; peer over every rule ` +
        `×${peerRatio.toFixed(2)} (EXPLAIN ×${(rules.execMs.manyAll / rules.execMs.fewAll).toFixed(2)}); ` +
        `plans in .data/bench-notify-plan-*.txt; load ${rules.loadBefore} → ${load()}; CPU ${rules.cpu}`,
    );
    for (const [which, plan] of Object.entries(rules.plans)) {
      // The line that grows with the rules: the (event × rule) pairs the join looks at and throws away.
      const removed = /Rows Removed by Join Filter: (\d+)/.exec(plan)?.[1];
      console.log(`plan ${which}: rule × event pairs removed by the rules join's filter: ${removed ?? 'n/a'}`);
    }
    if (process.env.BENCH_NOTIFY_EXPLAIN) console.log(`\nPlan with ${many.rules} rules:\n${rules.plans.many}`);
  }
  if (digest) {
    console.log(
      `\nDigest: ${DIGEST_EVENTS} events for ${DIGEST_RECIPIENTS} recipients, window 1 minute, per recipient; ` +
        `written by ${DIGEST_SOURCE === 'outbox' ? `the outbox's statements at ${DIGEST_RATE}/s` : 'addComment(), 16 at a time'}`,
    );
    printTable(
      ['measure', 'value', 'target'],
      [
        ['events written (s to write them)', `${digest.events} (${digest.writeSeconds.toFixed(1)} s)`, ''],
        [
          'notification rows routed (span first event → last routed)',
          `${digest.rows} (${digest.routedSpanS.toFixed(1)} s)`,
          String(DIGEST_EVENTS),
        ],
        ['digests', digest.digests, `exactly ${DIGEST_RECIPIENTS}`],
        ['rows digested / with a digest_id', `${digest.digested} / ${digest.withDigest}`, String(DIGEST_EVENTS)],
        ['rows sent alone / still waiting', `${digest.sentAlone} / ${digest.waiting}`, '0 / 0'],
        ['first event → first digest', `${digest.firstEventToFirstDigestS.toFixed(1)} s`, ''],
        ['last event → last digest', `${digest.lastEventToLastDigestS.toFixed(1)} s`, ''],
      ],
    );
    console.log(
      `digest target: ${digest.digests === DIGEST_RECIPIENTS && digest.withDigest === DIGEST_EVENTS ? 'met' : 'missed'}; ` +
        `load ${digest.loadBefore} → ${digest.loadAfter}; CPU ${digest.cpu}`,
    );
  }
  for (const note of notes) console.log(note);
  console.log(`load average at the end: ${load()}`);
  process.exit(0);
}

await main();
