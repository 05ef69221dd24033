// An alert nobody acknowledged in time: its event is routed once more, through a one-off rule made of the
// escalation's recipients and the original rule's channels, as critical (so it ignores quiet hours and digests),
// keyed by the alert so it escalates once.
import type { Executor } from '@switchboard/database';
import { type SQL, sql } from 'drizzle-orm';
import type { RoutableEvent } from './render.ts';

type EscalatingAlert = {
  id: string;
  organization_id: string;
  rule_id: string | null;
  event_id: string;
  escalation: { afterMinutes: number; recipients: unknown[] };
};

export async function escalationRules(
  tx: Executor,
  alert: EscalatingAlert,
): Promise<{ events: RoutableEvent[]; rules: SQL }> {
  const found = await tx.execute<{
    support_request_id: string;
    type: string;
    payload: Record<string, unknown>;
    created_at: Date;
    channels: string[] | null;
    webhook_endpoint_id: string | null;
  }>(sql`
    select e.support_request_id, e.type, e.payload, e.created_at, r.channels, r.webhook_endpoint_id
    from ticket_events e left join notification_rules r on r.id = ${alert.rule_id}::uuid
    where e.id = ${alert.event_id}::bigint and e.organization_id = ${alert.organization_id}`);
  const event = found.rows[0];
  const rules = sql`(select ${alert.rule_id}::uuid as id, ${alert.organization_id}::text as organization_id,
      'escalation'::text as name, jsonb_build_array(${event?.type ?? ''}::text) as trigger_events,
      ${JSON.stringify(alert.escalation.recipients)}::jsonb as recipients,
      ${JSON.stringify(event?.channels ?? ['in_app', 'email'])}::jsonb as channels,
      '{"mode":"immediate"}'::jsonb as delivery, 'critical'::text as severity, null::jsonb as escalation,
      ${event?.webhook_endpoint_id ?? null}::uuid as webhook_endpoint_id, '{}'::jsonb as conditions,
      true as is_active)`;
  if (!event) return { events: [], rules };
  return {
    events: [
      {
        eventId: Number(alert.event_id),
        organizationId: alert.organization_id,
        ticketId: event.support_request_id,
        type: event.type,
        payload: event.payload,
        actorUserId: null,
        createdAt: new Date(event.created_at).toISOString(),
        dedupeKey: `escalation:${alert.id}`,
        escalatedAfterMinutes: alert.escalation.afterMinutes,
      },
    ],
    rules,
  };
}
