// The notification workflows' activities: load what waits for a recipient, record decisions, send through a
// channel, escalate an alert. Each reads and writes rows by id; no text of a notification passes through Temporal.
import { type Database, notifications } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type Client } from '@temporalio/client';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { ServiceConfig } from '../../common/integration-settings.ts';
import type { Logger } from '../../common/logger.ts';
import {
  NOTIFY_PERMANENT,
  type NotifyAlertInput,
  type NotifyRecipientInput,
  ticketsTaskQueueOfNotify,
} from '../../workflows/notify-contract.ts';
import {
  type DueNotification,
  type PlannedSend,
  type RecipientSituation,
  throttleKey,
} from '../../workflows/notify-plan.ts';
import type {
  ChannelDeps,
  ChannelSender,
  NotificationItem,
  NotificationRecipientInfo,
  OutgoingNotification,
  SendOutcome,
} from './channels/types.ts';
import { escalationRules } from './escalate.ts';
import { NOTIFY_CHANNEL } from './notify-channel.ts';
import { type QuietHours, quietHoursEnd } from './quiet-hours.ts';
import { routeEvents } from './route.ts';
import { wakeRecipient } from './wake.ts';

export type NotificationRuntime = {
  db: Database;
  temporal: Client;
  config: ServiceConfig;
  logger: Logger;
  ticketsTaskQueue: string;
  publicUrl: string;
};

/**
 * Rows one pass looks at (each is in the pass's history: ids and times, about 250 bytes). Critical ones first, then
 * those that go out as they come, then digests oldest first, so a long digest never hides a new urgent one.
 */
const LOAD_LIMIT = 250;

const senders: Record<string, () => Promise<ChannelSender>> = {
  email: () => import('./channels/email.ts').then((m) => m.sendEmailNotification),
  slack: () => import('./channels/slack.ts').then((m) => m.sendSlackNotification),
  webhook: () => import('./channels/webhook.ts').then((m) => m.sendWebhookNotification),
};

export type DecisionInput = {
  ids: number[];
  status: 'suppressed' | 'throttled' | 'deferred' | 'failed';
  reason: string;
  deliverAfter?: string;
  /** A send failed: the retries' day counts from the first such failure. */
  failing?: boolean;
};

const DIGEST_MINUTES = { off: null, hourly: 60, daily: 24 * 60 } as const;

export function createNotificationActivities(runtime: NotificationRuntime) {
  const { db } = runtime;
  // The queue this activity runs on is the notifications queue of the deployment (or of a test): the other
  // modules' queues derive from its tickets queue, whatever the process's config says.
  const queues = () => {
    const notify = Context.current().info.taskQueue;
    return { notify, tickets: ticketsTaskQueueOfNotify(notify) };
  };

  async function recipientInfo(organizationId: string, key: string): Promise<NotificationRecipientInfo> {
    if (key.startsWith('slack:')) {
      const [, integrationId, channelId] = key.split(':');
      return { kind: 'slack_channel', key, integrationId: integrationId!, channelId: channelId! };
    }
    if (key.startsWith('customer:')) {
      const customerId = key.slice('customer:'.length);
      const rows = await db.execute<{ email: string; name: string | null }>(
        sql`select email, name from customers where id = ${customerId}::uuid and organization_id = ${organizationId}`,
      );
      const row = rows.rows[0];
      if (!row) throw ApplicationFailure.create({ type: NOTIFY_PERMANENT, message: 'the requester no longer exists' });
      return { kind: 'customer', key, customerId, email: row.email, name: row.name };
    }
    // A member: still one of the organisation's, or nothing is sent.
    const rows = await db.execute<{ email: string; name: string | null }>(sql`
      select u.email, u.name from "user" u join member m on m.user_id = u.id
      where u.id = ${key} and m.organization_id = ${organizationId}`);
    const row = rows.rows[0];
    if (!row)
      throw ApplicationFailure.create({ type: NOTIFY_PERMANENT, message: 'the recipient is no longer a member' });
    return { kind: 'user', key, userId: key, email: row.email, name: row.name };
  }

  const count = (outcomes: SendOutcome[]) => ({
    sent: outcomes.filter((o) => o.ok).length,
    failed: outcomes.filter((o) => !o.ok).length,
  });

  /** What a send did: sent (or digested into a new summary row), or failed for good with the reason. */
  async function record(
    input: NotifyRecipientInput & PlannedSend,
    rows: Array<typeof notifications.$inferSelect>,
    outcomes: SendOutcome[],
    digest: boolean,
  ): Promise<void> {
    const okIds = outcomes.filter((o) => o.ok).map((o) => o.id);
    const failed = outcomes.filter((o): o is Extract<SendOutcome, { ok: false }> => !o.ok);
    await db.transaction(async (tx) => {
      if (okIds.length > 0 && digest) {
        const [first] = rows;
        const [summary] = await tx
          .insert(notifications)
          .values({
            organizationId: input.organizationId,
            recipientKey: input.recipientKey,
            userId: first!.userId,
            channel: input.channel,
            ruleId: null,
            eventType: 'digest',
            category: first!.category,
            severity: 'normal',
            dedupeKey: `digest:${first!.id}`,
            delivery: { mode: 'immediate' },
            groupKey: first!.groupKey,
            webhookEndpointId: input.target || null,
            title: `${okIds.length} notifications`,
            body: rows
              .filter((r) => okIds.includes(r.id))
              .map((r) => `• ${r.title}`)
              .join('\n')
              .slice(0, 4000),
            link: null,
            status: 'sent',
            decidedAt: new Date(),
            sentAt: new Date(),
          })
          .onConflictDoNothing()
          .returning({ id: notifications.id });
        await tx
          .update(notifications)
          .set({
            status: 'digested',
            reason: null,
            digestId: summary?.id ?? null,
            decidedAt: new Date(),
            sentAt: new Date(),
          })
          .where(inArray(notifications.id, okIds));
      } else if (okIds.length > 0) {
        await tx
          .update(notifications)
          .set({ status: 'sent', reason: null, decidedAt: new Date(), sentAt: new Date() })
          .where(inArray(notifications.id, okIds));
      }
      for (const f of failed)
        await tx
          .update(notifications)
          .set({ status: 'failed', reason: f.reason.slice(0, 1000), decidedAt: new Date() })
          .where(eq(notifications.id, f.id));
      // The dashboard's live centre listens (api/routes/notifications.ts).
      if (input.channel === 'in_app' && rows[0]!.userId)
        await tx.execute(sql`select pg_notify(${NOTIFY_CHANNEL}, ${`${input.organizationId}:${rows[0]!.userId}`})`);
    });
  }

  return {
    async loadDueNotifications(input: NotifyRecipientInput): Promise<RecipientSituation> {
      let channelsByCategory: RecipientSituation['channelsByCategory'] = null;
      let quietUntil: string | null = null;
      let digestMinutes: number | null = null;
      const isMember = !input.recipientKey.includes(':');
      if (isMember) {
        const prefs = await db.execute<{
          channels: Record<string, string[]>;
          quiet_hours: QuietHours | null;
          digest_frequency: keyof typeof DIGEST_MINUTES;
        }>(sql`
          select channels, quiet_hours, digest_frequency from notification_preferences
          where organization_id = ${input.organizationId} and user_id = ${input.recipientKey}`);
        const p = prefs.rows[0];
        if (p) {
          channelsByCategory = p.channels;
          quietUntil = quietHoursEnd(p.quiet_hours, new Date())?.toISOString() ?? null;
          digestMinutes = DIGEST_MINUTES[p.digest_frequency] ?? null;
        }
      }
      const rows = await db.execute<{
        id: string;
        channel: string;
        category: string;
        severity: 'normal' | 'critical';
        delivery: DueNotification['delivery'];
        group_key: string;
        rule_id: string | null;
        status: 'pending' | 'deferred';
        created_at: Date;
        deliver_after: Date | null;
        webhook_endpoint_id: string | null;
        failing_since: Date | null;
      }>(sql`
        select id, channel, category, severity, delivery, group_key, rule_id, status, created_at, deliver_after,
          webhook_endpoint_id, failing_since
        from notifications
        where recipient_key = ${input.recipientKey} and organization_id = ${input.organizationId}
          and (status = 'pending' or (status = 'deferred' and deliver_after <= now()))
        -- Critical first; then, unless the member gathers everything into their own digest, what goes out as it
        -- comes before rule digests; oldest first within each.
        order by (severity = 'critical') desc,
          (${digestMinutes === null} and delivery->>'mode' = 'digest') asc, id
        limit ${LOAD_LIMIT + 1}`);
      const more = rows.rows.length > LOAD_LIMIT;
      // Deferred ones not due yet are not loaded; the workflow only needs to know when the first one is.
      const next = await db.execute<{ at: Date | null }>(sql`
        select min(deliver_after) as at from notifications
        where recipient_key = ${input.recipientKey} and organization_id = ${input.organizationId}
          and status = 'deferred' and deliver_after > now()`);
      const nextDeferredAt = next.rows[0]?.at ? new Date(next.rows[0].at).toISOString() : null;
      const items: DueNotification[] = rows.rows.slice(0, LOAD_LIMIT).map((r) => ({
        id: Number(r.id),
        channel: r.channel,
        target: r.webhook_endpoint_id ?? '',
        category: r.category,
        severity: r.severity,
        delivery: r.delivery,
        groupKey: r.group_key,
        ruleId: r.rule_id,
        status: r.status,
        createdAt: new Date(r.created_at).toISOString(),
        deliverAfter: r.deliver_after ? new Date(r.deliver_after).toISOString() : null,
        failingSince: r.failing_since ? new Date(r.failing_since).toISOString() : null,
      }));
      // What each throttle already let through within its window (sent, or sent inside a digest), per channel.
      const throttles = new Map<
        string,
        { ruleId: string | null; channel: string; groupKey: string; windowMinutes: number }
      >();
      for (const i of items)
        if (i.delivery.mode === 'throttle')
          throttles.set(throttleKey(i.ruleId, i.channel, i.groupKey), {
            ruleId: i.ruleId,
            channel: i.channel,
            groupKey: i.groupKey,
            windowMinutes: i.delivery.windowMinutes,
          });
      const sentInWindow: Record<string, number> = {};
      if (throttles.size > 0) {
        const list = [...throttles.values()];
        const counts = await db.execute<{ rule_id: string | null; channel: string; group_key: string; n: string }>(sql`
          select k.rule_id, k.channel, k.group_key, (
            select count(*) from notifications n
            where n.recipient_key = ${input.recipientKey} and n.organization_id = ${input.organizationId}
              and n.rule_id is not distinct from k.rule_id and n.channel = k.channel and n.group_key = k.group_key
              and n.status in ('sent', 'digested') and n.sent_at > now() - make_interval(mins => k.window_minutes)
          ) as n
          from unnest(${sql.param(list.map((t) => t.ruleId))}::uuid[], ${sql.param(list.map((t) => t.channel))}::text[],
                      ${sql.param(list.map((t) => t.groupKey))}::text[],
                      ${sql.param(list.map((t) => t.windowMinutes))}::int[])
            as k(rule_id, channel, group_key, window_minutes)`);
        for (const c of counts.rows) sentInWindow[throttleKey(c.rule_id, c.channel, c.group_key)] = Number(c.n);
      }
      return { items, channelsByCategory, quietUntil, digestMinutes, sentInWindow, more, nextDeferredAt };
    },

    async recordNotificationDecisions(input: NotifyRecipientInput & { decisions: DecisionInput[] }): Promise<void> {
      for (const d of input.decisions) {
        await db
          .update(notifications)
          .set({
            status: d.status,
            reason: d.reason.slice(0, 1000),
            decidedAt: new Date(),
            ...(d.deliverAfter ? { deliverAfter: new Date(d.deliverAfter) } : {}),
            ...(d.failing ? { failingSince: sql`coalesce(${notifications.failingSince}, now())` } : {}),
          })
          .where(
            and(
              eq(notifications.organizationId, input.organizationId),
              eq(notifications.recipientKey, input.recipientKey),
              inArray(notifications.id, d.ids),
              inArray(notifications.status, ['pending', 'deferred']),
            ),
          );
      }
    },

    async sendNotifications(input: NotifyRecipientInput & PlannedSend): Promise<{ sent: number; failed: number }> {
      // Only what is still waiting: a retry after a partial send does not send what went out again.
      const rows = await db
        .select()
        .from(notifications)
        .where(
          and(
            eq(notifications.organizationId, input.organizationId),
            eq(notifications.recipientKey, input.recipientKey),
            inArray(notifications.id, input.ids),
            inArray(notifications.status, ['pending', 'deferred']),
          ),
        )
        .orderBy(notifications.id);
      if (rows.length === 0) return { sent: 0, failed: 0 };
      // Someone who left the organisation gets nothing more, in the app either.
      const recipient = await recipientInfo(input.organizationId, input.recipientKey);
      const digest = input.digest && rows.length > 1;
      if (input.channel === 'in_app') {
        await record(
          input,
          rows,
          rows.map((r) => ({ id: r.id, ok: true })),
          digest,
        );
        return { sent: rows.length, failed: 0 };
      }
      const load = senders[input.channel];
      if (!load) throw ApplicationFailure.create({ type: NOTIFY_PERMANENT, message: `no channel ${input.channel}` });
      const sender = await load();
      const deps: ChannelDeps = { ...runtime, ticketsTaskQueue: queues().tickets };
      const outgoing = (batch: typeof rows, asDigest: boolean): OutgoingNotification => ({
        organizationId: input.organizationId,
        recipient,
        digest: asDigest,
        items: batch.map(
          (r): NotificationItem => ({
            id: r.id,
            eventType: r.eventType,
            severity: r.severity as NotificationItem['severity'],
            title: r.title,
            body: r.body,
            link: r.link,
            ticketId: r.ticketId,
            alertId: r.alertId,
            createdAt: r.createdAt.toISOString(),
          }),
        ),
        webhookEndpointId: input.target || null,
      });
      if (digest) {
        const outcomes = await sender(deps, outgoing(rows, true));
        await record(input, rows, outcomes, true);
        return count(outcomes);
      }
      // One message per notification, each recorded as soon as it went: a failure on the third leaves the first two
      // sent, and the retry sends only the rest.
      const all: SendOutcome[] = [];
      for (const row of rows) {
        Context.current().heartbeat();
        const outcomes = await sender(deps, outgoing([row], false));
        await record(input, [row], outcomes, false);
        all.push(...outcomes);
      }
      return count(all);
    },

    async escalateAlert(input: NotifyAlertInput): Promise<{ escalated: boolean }> {
      const routed = await db.transaction(async (tx) => {
        const [alert] = (
          await tx.execute<{
            id: string;
            organization_id: string;
            rule_id: string | null;
            event_id: string;
            escalation: { afterMinutes: number; recipients: unknown[] };
          }>(sql`
            update notification_alerts set escalated_at = now()
            where id = ${input.alertId}::uuid and organization_id = ${input.organizationId}
              and acknowledged_at is null and escalated_at is null
            returning id, organization_id, rule_id, event_id, escalation`)
        ).rows;
        if (!alert) {
          // Claimed by an earlier attempt whose wakes failed: its rows are there; wake whoever still waits.
          const again = await tx.execute<{ organization_id: string; recipient_key: string }>(sql`
            select distinct n.organization_id, n.recipient_key from notification_alerts a
            join notifications n on n.event_id = a.event_id and n.organization_id = a.organization_id
              and n.status = 'pending' and n.dedupe_key like 'escalation:' || a.id::text || '%'
            where a.id = ${input.alertId}::uuid and a.organization_id = ${input.organizationId}
              and a.escalated_at is not null`);
          const claimed = await tx.execute<{ escalated: boolean }>(sql`
            select escalated_at is not null as escalated from notification_alerts
            where id = ${input.alertId}::uuid and organization_id = ${input.organizationId}`);
          if (!claimed.rows[0]?.escalated) return null;
          return {
            recipients: again.rows.map((r) => ({
              organizationId: r.organization_id,
              recipientKey: r.recipient_key,
              ticketIds: [],
            })),
            alerts: [],
            rowsInserted: 0,
          };
        }
        const { events, rules } = await escalationRules(tx, alert);
        if (events.length === 0) return { recipients: [], alerts: [], rowsInserted: 0 };
        return routeEvents(tx, events, runtime.publicUrl, rules);
      });
      if (!routed) return { escalated: false };
      for (const r of routed.recipients)
        await wakeRecipient(runtime.temporal, queues().notify, r.organizationId, r.recipientKey);
      return { escalated: true };
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
