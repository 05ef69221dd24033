// Routing: which rules a batch of events matches, and who hears of each on which channel, in one set-based
// statement for the whole batch (issue 13: with 1,000 rules in an organisation an event is still one statement, not
// 1,000 checks in JavaScript). Each (recipient, channel, event) becomes one `notifications` row, pending until the
// recipient's workflow decides; several rules routing the same event to the same person make one row (the most
// urgent one wins). Idempotent: the rows are keyed, so a batch routed again after a failure adds nothing, and the
// recipients still waiting are found again and woken again.
import type { Executor } from '@switchboard/database';
import { type SQL, sql } from 'drizzle-orm';
import { groupBy } from '../../common/group-by.ts';
import { NOTIFY_CHANNEL } from './notify-channel.ts';
import { type RoutableEvent, renderEvent } from './render.ts';

export type RecipientToWake = { organizationId: string; recipientKey: string; ticketIds: string[] };
export type AlertToStart = { organizationId: string; alertId: string; escalateAt: string; ticketId: string | null };
export type RoutingResult = { recipients: RecipientToWake[]; alerts: AlertToStart[]; rowsInserted: number };

/**
 * The matching statement's rows (rule × event × recipient × channel), before they are written: the rules editor's
 * preview runs the same text over a sample event with `rulesFrom` pointing at the unsaved rule.
 */
export function matchingQuery(events: SQL, rulesFrom: SQL): SQL {
  return sql`
    with ev as (${events}),
    facts as (
      select e.*, e.payload->'ticket' as t,
        lower(split_part(coalesce(c.email, e.payload->>'sampleRequesterEmail'), '@', 2)) as requester_domain,
        case
          when e.type = 'sla.breached' then 'breached'
          when e.type = 'sla.warning' then 'warning'
          when e.payload->'ticket' is null then null
          when e.payload->'ticket'->>'status' in ('solved', 'closed') then 'ok'
          when (e.payload->'ticket'->>'resolutionDueAt')::timestamptz < e.at then 'breached'
          when s.first_responded_at is null and (e.payload->'ticket'->>'firstResponseDueAt')::timestamptz < e.at
            then 'breached'
          else 'ok'
        end as sla_state,
        s.created_at as ticket_created_at
      from ev e
      left join customers c
        on c.id = (e.payload->'ticket'->>'requesterId')::uuid and c.organization_id = e.organization_id
      left join support_requests s on s.id = e.ticket_id and s.organization_id = e.organization_id
    ),
    matched as (
      select f.*, r.id as rule_id, r.name as rule_name, r.recipients, r.channels, r.delivery, r.severity,
             r.escalation, r.webhook_endpoint_id, r.conditions as cond
      from facts f
      join ${rulesFrom} r on r.organization_id = f.organization_id and r.is_active and r.trigger_events ? f.type
      where (not (r.conditions ? 'priorities') or (f.t is not null and r.conditions->'priorities' ? (f.t->>'priority')))
        and (not (r.conditions ? 'statuses') or (f.t is not null and r.conditions->'statuses' ? (f.t->>'status')))
        and (not (r.conditions ? 'ticketChannels')
             or (f.t is not null and r.conditions->'ticketChannels' ? (f.t->>'channel')))
        and (not (r.conditions ? 'tags')
             or (f.t is not null and r.conditions->'tags' ?| array(select jsonb_array_elements_text(f.t->'tags'))))
        and (coalesce(r.conditions->>'assignee', 'any') = 'any'
             or (f.t is not null and (r.conditions->>'assignee' = 'assigned') = (f.t->>'assigneeId' is not null)))
        and (not (r.conditions ? 'requesterDomains') or r.conditions->'requesterDomains' ? f.requester_domain)
        and (not (r.conditions ? 'slaStates') or r.conditions->'slaStates' ? f.sla_state)
        and (not (r.conditions ? 'minutesSinceLastReply')
             or (f.t is not null and
                 (select coalesce(max(tc.created_at), f.ticket_created_at) from ticket_comments tc
                  where tc.support_request_id = f.ticket_id and tc.is_public and tc.author_user_id is not null)
                 <= f.at - make_interval(mins => (r.conditions->>'minutesSinceLastReply')::int)))
    ),
    rcpt as (
      select m.*, x.who from matched m cross join lateral jsonb_array_elements(m.recipients) x(who)
    ),
    targets as (
      -- Members: the assignee (or the team while unassigned, if the rule says so), a role, a person, the team;
      -- only members of the event's organisation, whatever the rule names.
      select rc.*, mb.user_id, mb.user_id as recipient_key, ch.c as channel,
        -- Each webhook endpoint is its own destination: two rules' endpoints both get the event.
        case when ch.c = 'webhook' then rc.dedupe_key || '|' || coalesce(rc.webhook_endpoint_id::text, '')
             else rc.dedupe_key end as row_key
      from rcpt rc
      join member mb on mb.organization_id = rc.organization_id and (
           (rc.who->>'type' = 'assignee' and mb.user_id = rc.t->>'assigneeId')
        or (rc.who->>'type' = 'assignee' and rc.who->>'whenUnassigned' = 'team' and rc.t is not null
            and rc.t->>'assigneeId' is null and mb.role in ('admin', 'agent'))
        or (rc.who->>'type' = 'role' and mb.role = rc.who->>'role')
        or (rc.who->>'type' = 'user' and mb.user_id = rc.who->>'userId')
        or (rc.who->>'type' = 'team' and mb.role in ('admin', 'agent')))
      cross join lateral jsonb_array_elements_text(rc.channels) ch(c)
      -- A channel whose integration is not connected (a default rule naming Slack before Slack is installed) is
      -- left out rather than failing every time; a rule's own channels were checked when it was written.
      where ch.c in ('in_app', 'webhook') or exists (
        select 1 from integration_configs ic
        where ic.organization_id = rc.organization_id and ic.integration_type = ch.c and ic.is_active
          and ic.disabled_reason is null)
      union all
      select rc.*, null::text, 'slack:' || (rc.who->>'integrationId') || ':' || (rc.who->>'channelId'), 'slack',
        rc.dedupe_key
      from rcpt rc where rc.who->>'type' = 'slack_channel' and rc.channels ? 'slack'
      union all
      select rc.*, null::text, 'customer:' || (rc.t->>'requesterId'), 'email', rc.dedupe_key
      from rcpt rc
      where rc.who->>'type' = 'requester' and rc.t->>'requesterId' is not null and rc.channels ? 'email'
    )
    select distinct on (organization_id, recipient_key, channel, row_key) *
    from targets
    -- The most urgent wins: critical (one that escalates first, so its alert is raised), then immediate, throttled,
    -- digested (then a stable choice).
    order by organization_id, recipient_key, channel, row_key, (severity = 'critical') desc,
      (escalation is not null) desc, case delivery->>'mode' when 'immediate' then 0 when 'throttle' then 1 else 2 end,
      rule_id`;
}

/** The events as a relation of the columns the matching statement reads. */
export function eventsRelation(events: readonly RoutableEvent[], publicUrl: string): SQL {
  const rendered = events.map((e) => renderEvent(e, publicUrl));
  return sql`
    select * from unnest(
      ${sql.param(events.map((e) => e.eventId))}::bigint[],
      ${sql.param(events.map((e) => e.organizationId))}::text[],
      ${sql.param(events.map((e) => e.ticketId))}::uuid[],
      ${sql.param(events.map((e) => e.type))}::text[],
      ${sql.param(events.map((e) => JSON.stringify(e.payload)))}::jsonb[],
      ${sql.param(events.map((e) => e.actorUserId))}::text[],
      ${sql.param(events.map((e) => e.dedupeKey))}::text[],
      ${sql.param(events.map((e) => e.createdAt))}::timestamptz[],
      ${sql.param(rendered.map((r) => r.title))}::text[],
      ${sql.param(rendered.map((r) => r.body))}::text[],
      ${sql.param(rendered.map((r) => r.link))}::text[],
      ${sql.param(rendered.map((r) => r.category))}::text[])
    as e(event_id, organization_id, ticket_id, type, payload, actor_user_id, dedupe_key, at, title, body, link,
         category)`;
}

/**
 * Only the active rules of these organisations that name one of these event types, found through the GIN index on
 * trigger_events: the join then pairs each event with its candidates, not with every rule of its organisation (with
 * 1,000 rules that pairing was three quarters of the statement; specification/performance.md).
 */
export function candidateRules(events: readonly RoutableEvent[]): SQL {
  return sql`(select * from notification_rules
    where organization_id = any(${sql.param([...new Set(events.map((e) => e.organizationId))])}::text[])
      and is_active and trigger_events ?| ${sql.param([...new Set(events.map((e) => e.type))])}::text[])`;
}

/** The rows of these events a routing run looks at again: recipients still to wake, and critical rows' alerts. */
function earlierRows(eventIds: readonly number[]): SQL {
  return sql`where event_id = any(${sql.param([...eventIds])}::bigint[])
    and (status = 'pending' or severity = 'critical')`;
}

/** Routes a batch (any organisations): writes the notifications and alerts, and says whom to wake. */
export async function routeEvents(
  db: Executor,
  events: readonly RoutableEvent[],
  publicUrl: string,
  /** The rules to route by: the organisations' (by default), or an escalation's one-off rule. */
  rulesFrom?: SQL,
): Promise<RoutingResult> {
  if (events.length === 0) return { recipients: [], alerts: [], rowsInserted: 0 };
  const rules = rulesFrom ?? candidateRules(events);
  const eventIds = events.flatMap((e) => (e.eventId === null ? [] : [e.eventId]));
  // One statement writes the rows and, in the same round trip, finds the rows earlier runs of these events left
  // (its snapshot does not see its own inserts): those still pending, whose recipients are woken again, and the
  // critical ones, which are what the alert steps below look at. A batch that matches nothing, or writes no in-app
  // row and finds no critical one, is then this one statement (the three that followed were three of the relay's
  // nine statements a batch at 50 creates/s; specification/performance.md). It also counts the rows it matched:
  // more than it wrote means some keys were there already (a batch routed again, or a run of the same events that
  // committed while this one waited on its rows, which this statement's snapshot cannot show), and the earlier rows
  // are then read again, after it.
  const routed = await db.execute<{
    kind: 'fresh' | 'earlier' | 'matched';
    id: string;
    organization_id: string;
    recipient_key: string;
    ticket_id: string | null;
    status: string;
    channel: string;
    severity: string;
  }>(sql`
    with routed as (${matchingQuery(eventsRelation(events, publicUrl), rules)}),
    inserted as (
      insert into notifications (organization_id, recipient_key, user_id, channel, rule_id, event_id, ticket_id,
        event_type, category, severity, dedupe_key, delivery, group_key, title, body, link, status, reason, decided_at,
        webhook_endpoint_id, created_at)
      select organization_id, recipient_key, user_id, channel, rule_id, event_id, ticket_id, type, category, severity,
        row_key, delivery,
        case coalesce(delivery->>'groupBy', delivery->>'key', 'ticket')
          when 'ticket' then coalesce(ticket_id::text, payload->>'integrationId', type)
          when 'event_type' then type
          when 'rule' then rule_id::text
          else '' end,
        title, body,
        -- The requester cannot open the dashboard.
        case when recipient_key like 'customer:%' then null else link end,
        case when user_id = actor_user_id and severity <> 'critical' then 'suppressed' else 'pending' end,
        case when user_id = actor_user_id and severity <> 'critical' then 'your own change' end,
        case when user_id = actor_user_id and severity <> 'critical' then now() end,
        case when channel = 'webhook' then webhook_endpoint_id end,
        -- When the event happened, not when the relay got to it: a digest's window and the centre's times follow the
        -- events, however late routing was.
        least(at, now())
      from routed
      on conflict (organization_id, recipient_key, channel, dedupe_key) do nothing
      returning id, organization_id, recipient_key, ticket_id, status, channel, severity)
    select 'fresh' as kind, * from inserted
    union all
    select 'earlier', id, organization_id, recipient_key, ticket_id, status, channel, severity
    from notifications ${earlierRows(eventIds)}
    union all
    select 'matched', count(*), null, null, null, null, null, null from routed`);
  const inserted = routed.rows.filter((r) => r.kind === 'fresh');
  let earlier = routed.rows.filter((r) => r.kind === 'earlier');
  const matched = Number(routed.rows.find((r) => r.kind === 'matched')?.id ?? 0);
  if (matched > inserted.length && eventIds.length > 0) {
    const seen = await db.execute<(typeof earlier)[number]>(sql`
      select 'earlier' as kind, id, organization_id, recipient_key, ticket_id, status, channel, severity
      from notifications ${earlierRows(eventIds)}`);
    earlier = seen.rows;
  }

  // In-app notifications that need no waiting are decided here, in the same set-based way: nothing to gather,
  // throttle or defer, so their recipients' workflows need no wake for them (the immediate path's Temporal cost was
  // what ran out; performance.md). These are the planner's own rules for such rows (workflows/notify-plan.ts):
  // critical goes; a category the member turned off for in-app is suppressed; an immediate one outside quiet hours
  // and without the member's own digest goes. Everything else stays pending for the workflow.
  const fresh = inserted.filter((r) => r.status === 'pending' && r.channel === 'in_app').map((r) => r.id);
  const decidedNow = new Set<string>();
  if (fresh.length > 0) {
    const decided = await db.execute<{ id: string; organization_id: string; user_id: string; status: string }>(sql`
      with decided as (
        select n.id,
          case
            when n.severity = 'critical' then 'sent'
            when p.channels ? n.category and not (p.channels->n.category ? 'in_app') then 'suppressed'
            when n.delivery->>'mode' <> 'immediate' then null
            when coalesce(p.digest_frequency, 'off') <> 'off' then null
            when p.quiet_hours is not null and (
              with q as (select (p.quiet_hours->>'start')::time as s, (p.quiet_hours->>'end')::time as e,
                                (now() at time zone (p.quiet_hours->>'timeZone'))::time as t)
              select case when s < e then t >= s and t < e when s > e then t >= s or t < e else false end from q)
              then null
            else 'sent'
          end as status
        from notifications n
        left join notification_preferences p on p.organization_id = n.organization_id and p.user_id = n.user_id
        where n.id = any(${sql.param(fresh)}::bigint[]) and n.status = 'pending')
      update notifications n set status = d.status, decided_at = now(),
        sent_at = case when d.status = 'sent' then now() end,
        reason = case when d.status = 'suppressed'
          then 'your preferences turn off in_app for ' || n.category || ' notifications' end
      from decided d
      where d.id = n.id and d.status is not null
      returning n.id, n.organization_id, n.user_id, n.status`);
    for (const r of decided.rows) decidedNow.add(String(r.id));
    // The dashboard's live centre hears of them as of any other sent in-app notification.
    const told = [
      ...new Set(decided.rows.filter((r) => r.status === 'sent').map((r) => `${r.organization_id}:${r.user_id}`)),
    ];
    if (told.length > 0)
      await db.execute(sql`select pg_notify(${NOTIFY_CHANNEL}, k) from unnest(${sql.param(told)}::text[]) k`);
  }

  let alerts: AlertToStart[] = [];
  // Whoever has a row still pending is woken: this run's rows the step above did not decide, and earlier runs'.
  const waiting = [...inserted, ...earlier].filter((r) => r.status === 'pending' && !decidedNow.has(String(r.id)));
  // Alerts and the rows' links to them concern critical rows only: this run's or, for a batch routed again, an
  // earlier run's (whose alert may not have been raised before that run failed).
  if (eventIds.length > 0 && [...inserted, ...earlier].some((r) => r.severity === 'critical')) {
    // A critical rule with an escalation raises one alert per event; its recipients' rows point at it, so their
    // messages can offer "Acknowledge".
    const raised = await db.execute<{
      id: string;
      organization_id: string;
      escalate_at: Date;
      ticket_id: string | null;
    }>(sql`
      with inserted as (
        insert into notification_alerts (organization_id, rule_id, event_id, ticket_id, escalate_at, escalation)
        select distinct on (n.event_id, n.rule_id) n.organization_id, n.rule_id, n.event_id, n.ticket_id,
          now() + make_interval(mins => (r.escalation->>'afterMinutes')::int), r.escalation
        from notifications n join notification_rules r on r.id = n.rule_id
        where n.event_id = any(${sql.param(eventIds)}::bigint[]) and n.severity = 'critical'
          and r.escalation is not null
        on conflict (event_id, rule_id) do nothing
        returning id, organization_id, escalate_at, ticket_id)
      -- The statement's snapshot does not see its own inserts: earlier runs' open alerts, then the new ones.
      select a.id, a.organization_id, a.escalate_at, a.ticket_id from notification_alerts a
      where a.event_id = any(${sql.param(eventIds)}::bigint[]) and a.acknowledged_at is null and a.escalated_at is null
      union all
      select id, organization_id, escalate_at, ticket_id from inserted`);
    alerts = raised.rows.map((a) => ({
      organizationId: a.organization_id,
      alertId: a.id,
      escalateAt: new Date(a.escalate_at).toISOString(),
      ticketId: a.ticket_id,
    }));
    // Also for an escalation's rows, whose alert is no longer open.
    // Every critical row of the event carries an alert to acknowledge: its own rule's, or else the event's first
    // (its rule lost the dedupe to another critical one, or it is an escalation's row).
    await db.execute(sql`
        update notifications n set alert_id = coalesce(
          (select a.id from notification_alerts a where a.event_id = n.event_id and a.rule_id = n.rule_id),
          (select a.id from notification_alerts a where a.event_id = n.event_id order by a.created_at, a.id limit 1))
        where n.alert_id is null and n.severity = 'critical'
          and n.event_id = any(${sql.param(eventIds)}::bigint[])
          and exists (select 1 from notification_alerts a where a.event_id = n.event_id)`);
  }
  const recipients = [...groupBy(waiting, (r) => `${r.organization_id}\u0000${r.recipient_key}`).values()].map(
    (rows) => ({
      organizationId: rows[0]!.organization_id,
      recipientKey: rows[0]!.recipient_key,
      ticketIds: [...new Set(rows.flatMap((r) => (r.ticket_id ? [r.ticket_id] : [])))],
    }),
  );
  return { recipients, alerts, rowsInserted: inserted.length };
}
