// From ticket events to pending deliveries, for a whole relay batch at once: one message per event (its
// webhook-id), one delivery per endpoint that existed, was enabled and was subscribed to the type when the event
// happened (integration_config_history), however late the relay gets to it.
// Idempotent, so a batch can be planned again after any failure: a message is keyed by its event id, a delivery by
// (message, endpoint). The statements are set-based (array parameters), so their number does not grow with the
// batch or with the endpoints.
import { type Database, type Executor, webhookMessages } from '@switchboard/database';
import { inArray, sql } from 'drizzle-orm';
import { groupBy } from '../../common/group-by.ts';
import type { DispatchedTicketEvent } from '../../common/ticket-events.ts';
import { eventTimesUs, integrationTimelinesOf, versionAt } from '../../domain/integrations/read-integrations.ts';
import { type EndpointSubscription, endpointWantsEvent } from '../../domain/webhooks/endpoint-wants-event.ts';
import { DELIVERIES_CHANNEL } from './delivery-notifications.ts';
import { newMessageId } from './message-id.ts';

/** The body every endpoint receives, as Standard Webhooks recommends: the type, when it happened, the payload. */
export function webhookBody(type: string, timestamp: string, data: unknown) {
  return { type, timestamp, data };
}

export type EnqueueResult = {
  messageId: string | null;
  /** Endpoints that got a pending delivery. */
  endpointIds: string[];
  /** Those of them to wake (the others' batches are listening and were notified). */
  toWake: string[];
  /** Set when the payload was over the limit: no delivery was made, each endpoint has a failed one saying why. */
  refused?: string;
};

/** A pending delivery's endpoint, and the tickets whose events it carries (they wait for its wake). */
export type EndpointToWake = {
  endpointId: string;
  organizationId: string;
  ticketIds: string[];
  /** Its batch is listening and was notified in the fan-out's transaction: it needs no wake. */
  listening: boolean;
  /**
   * An earlier relay batch woke its workflow and no batch has started since: the coming batch claims these
   * deliveries too, so it needs no wake either.
   */
  wakePending: boolean;
  /** The fan-out's time: what the wake marks as sent once the signal is accepted (`markWakesSent`). */
  fannedOutAt: string;
  /** The listener row's owner when the fan-out read it (null: none, or no row): a takeover changes it. */
  ownerAtFanOut: string | null;
};

export type FanOutResult = {
  /** Per event id: its message id, or null when no endpoint wanted it; and why it was refused, if it was. */
  messages: Map<number, { messageId: string; refused?: string }>;
  /** Every endpoint with a pending delivery from these events, once each. */
  endpoints: EndpointToWake[];
};

/** How long a sent wake is trusted to bring its batch (see `wakeSentAt` in the schema). */
export const WAKE_TRUSTED_FOR = '30 seconds';

/**
 * Records that the endpoints were announced (to the dispatcher; an endpoint workflow's wake in earlier releases) for
 * deliveries fanned out at `fannedOutAt`, when each listener row had `ownerAtFanOut`: written only after the signal
 * was accepted, so an announcement that failed leaves no marker and the relay's retry of the batch sends it again. A
 * batch that took a row over after the fan-out has already answered it (its `taken_at` is later, or the owner
 * changed), so nothing waits on it. An older marker never replaces a newer one, and an endpoint deleted meanwhile
 * gets none (its row would break the foreign key, and it needs no batch). One statement for the whole batch.
 */
export async function markWakesSent(
  db: Executor,
  endpoints: ReadonlyArray<Pick<EndpointToWake, 'endpointId' | 'fannedOutAt' | 'ownerAtFanOut'>>,
): Promise<void> {
  if (endpoints.length === 0) return;
  await db.execute(sql`
    insert into webhook_endpoint_listeners (endpoint_id, wake_sent_at, wake_owner)
    select c.id, m.sent_at, m.owner
    from unnest(${sql.param(endpoints.map((e) => e.endpointId))}::uuid[],
                ${sql.param(endpoints.map((e) => e.fannedOutAt))}::timestamptz[],
                ${sql.param(endpoints.map((e) => e.ownerAtFanOut))}::text[]) as m(endpoint_id, sent_at, owner)
    join integration_configs c on c.id = m.endpoint_id
    on conflict (endpoint_id) do update
      set wake_sent_at = excluded.wake_sent_at, wake_owner = excluded.wake_owner
      where webhook_endpoint_listeners.wake_sent_at is null
        or webhook_endpoint_listeners.wake_sent_at < excluded.wake_sent_at`);
}

/** Turns a batch of events (any tickets, any organisations) into messages and deliveries. */
export async function fanOutDeliveries(
  db: Executor,
  events: readonly DispatchedTicketEvent[],
  payloadLimitBytes: number,
): Promise<FanOutResult> {
  const result: FanOutResult = { messages: new Map(), endpoints: [] };
  if (events.length === 0) return result;
  const organizationIds = [...new Set(events.map((e) => e.organizationId))];
  const oldest = new Date(Math.min(...events.map((e) => Date.parse(e.createdAt))));
  const endpoints = await integrationTimelinesOf(db, 'webhook', organizationIds, oldest);
  if (endpoints.length === 0) return result;
  const byOrganization = groupBy(endpoints, (e) => e.organizationId);
  const times = await eventTimesUs(
    db,
    events.map((e) => e.id),
  );

  type Planned = { event: DispatchedTicketEvent; endpointIds: string[]; body: unknown; refused?: string };
  const planned: Planned[] = [];
  for (const event of events) {
    // Exact to the microsecond when the outbox row is this event (its time agrees to the millisecond). An event that
    // is not in the outbox (tests' synthetic events) goes by the end of its ISO time's millisecond, so a change made
    // within that millisecond counts as before it.
    const ms = Date.parse(event.createdAt);
    const exact = times.get(event.id);
    const at = exact !== undefined && Math.floor(exact / 1000) === ms ? exact : ms * 1000 + 999;
    // What each endpoint was when the event happened: one created later never hears of it; one disabled then, or
    // not subscribed then, does not get it; one disabled since still gets a delivery, which waits for it.
    const wanting = (byOrganization.get(event.organizationId) ?? []).filter((e) => {
      const then = versionAt(e, at);
      return then?.isActive === true && endpointWantsEvent(then.config as EndpointSubscription, event);
    });
    if (wanting.length === 0) continue;
    const body = webhookBody(event.type, event.createdAt, event.payload);
    const size = Buffer.byteLength(JSON.stringify(body));
    const refused =
      size > payloadLimitBytes
        ? `payload is ${size} bytes, over the ${payloadLimitBytes}-byte limit: not sent`
        : undefined;
    // An oversized body is not kept: the ticket event still holds it, and storing it would be the cost we refuse.
    planned.push({
      event,
      endpointIds: wanting.map((e) => e.id),
      body: refused ? webhookBody(event.type, event.createdAt, null) : body,
      ...(refused ? { refused } : {}),
    });
  }
  if (planned.length === 0) return result;

  const sendable = [...new Set(planned.filter((p) => !p.refused).flatMap((p) => p.endpointIds))];
  const listeningIds = new Set<string>();
  const wakePendingIds = new Set<string>();
  const ownerAtFanOut = new Map<string, string | null>();
  let fannedOutAt = '';
  const messageIds = await db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into webhook_messages (id, organization_id, event_id, ticket_id, event_type, payload)
      select * from unnest(
        ${sql.param(planned.map(() => newMessageId()))}::text[],
        ${sql.param(planned.map((p) => p.event.organizationId))}::text[],
        ${sql.param(planned.map((p) => p.event.id))}::bigint[],
        ${sql.param(planned.map((p) => p.event.ticketId))}::uuid[],
        ${sql.param(planned.map((p) => p.event.type))}::text[],
        ${sql.param(planned.map((p) => JSON.stringify(p.body)))}::jsonb[])
      on conflict (event_id) where event_id is not null do nothing`);
    // Ours, or those of an earlier run of the same batch.
    const rows = await tx
      .select({ id: webhookMessages.id, eventId: webhookMessages.eventId })
      .from(webhookMessages)
      .where(
        inArray(
          webhookMessages.eventId,
          planned.map((p) => p.event.id),
        ),
      );
    const ids = new Map(rows.map((r) => [r.eventId!, r.id]));

    const deliveries = planned.flatMap((p) =>
      p.endpointIds.map((endpointId) => ({ p, endpointId, messageId: ids.get(p.event.id)! })),
    );
    await tx.execute(sql`
      with inserted as (
        insert into webhook_deliveries (organization_id, endpoint_id, message_id, status, next_attempt_at)
        select o, e, m, s::webhook_delivery_status, case when s = 'pending' then now() end
        from unnest(
          ${sql.param(deliveries.map((d) => d.p.event.organizationId))}::text[],
          ${sql.param(deliveries.map((d) => d.endpointId))}::uuid[],
          ${sql.param(deliveries.map((d) => d.messageId))}::text[],
          ${sql.param(deliveries.map((d) => (d.p.refused ? 'failed' : 'pending')))}::text[]) as x(o, e, m, s)
        on conflict (message_id, endpoint_id) do nothing
        returning id, organization_id, endpoint_id, message_id, status)
      -- A refused payload gets its failed delivery and one attempt saying why, so the log shows it.
      insert into webhook_attempts
        (organization_id, delivery_id, endpoint_id, attempt_number, started_at, duration_ms, error_class,
         response_excerpt, outcome)
      select i.organization_id, i.id, i.endpoint_id, 0, now(), 0, 'payload_too_large', r.reason, 'failed'
      from inserted i
      join unnest(${sql.param(planned.filter((p) => p.refused).map((p) => ids.get(p.event.id)!))}::text[],
                  ${sql.param(planned.filter((p) => p.refused).map((p) => p.refused!))}::text[]) as r(m, reason)
        on r.m = i.message_id
      where i.status = 'failed'`);
    // Endpoints whose batch is listening hear of their deliveries from this transaction's NOTIFY, sent at commit,
    // and get no wake. FOR SHARE: a batch that stops listening clears its row first, which waits for this commit,
    // and only then looks for due deliveries one last time, so it sees these.
    //
    // Endpoints whose workflow an earlier relay batch woke, where no batch has taken the row over since, need no
    // wake either: the batch that wake starts takes the row over after this commit (FOR SHARE again), so its first
    // claim sees these deliveries. A marker older than WAKE_TRUSTED_FOR is not trusted (a workflow terminated by
    // hand after the signal): such endpoints are woken again.
    //
    // Every listener row of these endpoints is read FOR SHARE (a takeover waits for this commit), with the time
    // read once, so a row is either listening or not for the whole statement.
    // The statement's one reading of the clock is also the fan-out's time (a row even when no endpoint has a row).
    const listening = await tx.execute<{
      now: string;
      endpoint_id: string | null;
      owner: string | null;
      listening: boolean | null;
      wake_pending: boolean | null;
    }>(sql`
      with clock as (select clock_timestamp() as now),
      rows as (
        select l.endpoint_id, l.owner, l.listening_until > clock.now as listening,
          (l.wake_sent_at > coalesce(l.taken_at, '-infinity') and l.owner is not distinct from l.wake_owner
            and l.wake_sent_at > clock.now - ${WAKE_TRUSTED_FOR}::interval) as wake_pending
        from webhook_endpoint_listeners l, clock
        where l.endpoint_id = any(${sql.param(sendable)}::uuid[])
        for share of l)
      select clock.now::text as now, rows.endpoint_id, rows.owner, rows.listening, rows.wake_pending,
        case when rows.listening then pg_notify(${DELIVERIES_CHANNEL}, rows.endpoint_id::text) end
      from clock left join rows on true`);
    for (const row of listening.rows) {
      fannedOutAt = row.now;
      if (row.endpoint_id === null) continue;
      ownerAtFanOut.set(row.endpoint_id, row.owner);
      if (row.listening) listeningIds.add(row.endpoint_id);
      else if (row.wake_pending) wakePendingIds.add(row.endpoint_id);
    }
    return ids;
  });

  const wakes = new Map<string, EndpointToWake & { tickets: Set<string> }>();
  for (const p of planned) {
    result.messages.set(p.event.id, {
      messageId: messageIds.get(p.event.id)!,
      ...(p.refused ? { refused: p.refused } : {}),
    });
    // A retry of the batch finds its deliveries already there; waking their endpoints again is harmless.
    if (p.refused) continue;
    for (const endpointId of p.endpointIds) {
      const wake = wakes.get(endpointId) ?? {
        endpointId,
        organizationId: p.event.organizationId,
        ticketIds: [],
        listening: listeningIds.has(endpointId),
        wakePending: wakePendingIds.has(endpointId),
        fannedOutAt,
        ownerAtFanOut: ownerAtFanOut.get(endpointId) ?? null,
        tickets: new Set<string>(),
      };
      wake.tickets.add(p.event.ticketId);
      wakes.set(endpointId, wake);
    }
  }
  result.endpoints = [...wakes.values()].map(({ tickets, ...w }) => ({ ...w, ticketIds: [...tickets] }));
  return result;
}

/** One event at a time: what the ticket workflows of earlier releases still call through their activity. */
export async function enqueueDeliveries(
  db: Database,
  event: DispatchedTicketEvent,
  payloadLimitBytes: number,
): Promise<EnqueueResult> {
  const { messages, endpoints } = await fanOutDeliveries(db, [event], payloadLimitBytes);
  const message = messages.get(event.id);
  if (!message) return { messageId: null, endpointIds: [], toWake: [] };
  if (message.refused) return { messageId: message.messageId, endpointIds: [], toWake: [], refused: message.refused };
  return {
    messageId: message.messageId,
    endpointIds: endpoints.map((e) => e.endpointId),
    toWake: endpoints.filter((e) => !e.listening && !e.wakePending).map((e) => e.endpointId),
  };
}
