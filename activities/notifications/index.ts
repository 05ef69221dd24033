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
import type { DueNotification, PlannedSend, RecipientSituation } from '../../workflows/notify-plan.ts';
import type {
  ChannelDeps,
  ChannelSender,
  NotificationItem,
  NotificationRecipientInfo,
  OutgoingNotification,
  SendOutcome,
} from './channels/types.ts';
import { escalationRules } from './escalate.ts';
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

/** Rows one pass looks at; more waiting makes the workflow plan again at once. */
const LOAD_LIMIT = 1000;
export const NOTIFY_CHANNEL = 'notifications';

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

  return {
    async loadDueNotifications(input: NotifyRecipientInput): Promise<RecipientSituation> {
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
      }>(sql`
        select id, channel, category, severity, delivery, group_key, rule_id, status, created_at, deliver_after
        from notifications
        where recipient_key = ${input.recipientKey} and organization_id = ${input.organizationId}
          and status in ('pending', 'deferred')
        order by id limit ${LOAD_LIMIT + 1}`);
      const more = rows.rows.length > LOAD_LIMIT;
      const items: DueNotification[] = rows.rows.slice(0, LOAD_LIMIT).map((r) => ({
        id: Number(r.id),
        channel: r.channel,
        category: r.category,
        severity: r.severity,
        delivery: r.delivery,
        groupKey: r.group_key,
        ruleId: r.rule_id,
        status: r.status,
        createdAt: new Date(r.created_at).toISOString(),
        deliverAfter: r.deliver_after ? new Date(r.deliver_after).toISOString() : null,
      }));
      let channelsByCategory: RecipientSituation['channelsByCategory'] = null;
      let quietUntil: string | null = null;
      let digestMinutes: number | null = null;
      const isMember = !input.recipientKey.includes(':');
      if (isMember && items.length > 0) {
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
      // What each throttle already let through within its window (sent, or sent inside a digest).
      const throttles = new Map<string, { ruleId: string | null; groupKey: string; windowMinutes: number }>();
      for (const i of items)
        if (i.delivery.mode === 'throttle')
          throttles.set(`${i.ruleId ?? '-'}|${i.groupKey}`, {
            ruleId: i.ruleId,
            groupKey: i.groupKey,
            windowMinutes: i.delivery.windowMinutes,
          });
      const sentInWindow: Record<string, number> = {};
      if (throttles.size > 0) {
        const list = [...throttles.values()];
        const counts = await db.execute<{ rule_id: string | null; group_key: string; n: string }>(sql`
          select k.rule_id, k.group_key, (
            select count(*) from notifications n
            where n.recipient_key = ${input.recipientKey} and n.organization_id = ${input.organizationId}
              and n.rule_id is not distinct from k.rule_id and n.group_key = k.group_key
              and n.status in ('sent', 'digested') and n.sent_at > now() - make_interval(mins => k.window_minutes)
          ) as n
          from unnest(${sql.param(list.map((t) => t.ruleId))}::uuid[], ${sql.param(list.map((t) => t.groupKey))}::text[],
                      ${sql.param(list.map((t) => t.windowMinutes))}::int[]) as k(rule_id, group_key, window_minutes)`);
        for (const c of counts.rows) sentInWindow[`${c.rule_id ?? '-'}|${c.group_key}`] = Number(c.n);
      }
      return { items, channelsByCategory, quietUntil, digestMinutes, sentInWindow, more };
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
      // Only what is still waiting: a retry after a partial send does not send the rest twice.
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
      const digest = input.digest && rows.length > 1;
      let outcomes: SendOutcome[];
      if (input.channel === 'in_app') {
        outcomes = rows.map((r) => ({ id: r.id, ok: true }));
      } else {
        const load = senders[input.channel];
        if (!load) throw ApplicationFailure.create({ type: NOTIFY_PERMANENT, message: `no channel ${input.channel}` });
        const sender = await load();
        const ruleEndpoint = rows[0]!.ruleId
          ? await db.execute<{ webhook_endpoint_id: string | null }>(
              sql`select webhook_endpoint_id from notification_rules where id = ${rows[0]!.ruleId}`,
            )
          : null;
        const items: NotificationItem[] = rows.map((r) => ({
          id: r.id,
          eventType: r.eventType,
          severity: r.severity as NotificationItem['severity'],
          title: r.title,
          body: r.body,
          link: r.link,
          ticketId: r.ticketId,
          alertId: r.alertId,
          createdAt: r.createdAt.toISOString(),
        }));
        const outgoing: OutgoingNotification = {
          organizationId: input.organizationId,
          recipient: await recipientInfo(input.organizationId, input.recipientKey),
          digest,
          items,
          webhookEndpointId: ruleEndpoint?.rows[0]?.webhook_endpoint_id ?? null,
        };
        const deps: ChannelDeps = { ...runtime, ticketsTaskQueue: queues().tickets };
        outcomes = await sender(deps, outgoing);
      }
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
      return { sent: okIds.length, failed: failed.length };
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
        if (!alert) return null;
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
