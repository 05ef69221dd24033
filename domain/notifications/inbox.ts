// A member's side of notifications: their preferences, their in-app centre (unread count, mark read), the fatigue
// view (what was held back from them and why), and the rules editor's preview of a sample event.
import { randomUUID } from 'node:crypto';
import { type Database, notificationPreferences, notificationRules, notifications } from '@switchboard/database';
import { and, desc, eq, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
import { slackNotificationMessage } from '../../activities/notifications/channels/slack.ts';
import { quietHoursEnd } from '../../activities/notifications/quiet-hours.ts';
import { categoryOf, type RoutableEvent, renderEvent } from '../../activities/notifications/render.ts';
import { eventsRelation, matchingQuery } from '../../activities/notifications/route.ts';
import { conflict } from '../../common/errors.ts';
import { type DueNotification, planNotifications } from '../../workflows/notify-plan.ts';
import { recordAudit } from '../audit.ts';
import type { Scope } from '../scope.ts';
import type { NotificationView, PreferencesInput, PreferencesView, PreviewInput, PreviewView } from './schemas.ts';

function personOf(scope: Scope): string {
  if (!scope.userId) throw conflict('notifications belong to a person: sign in, or use a key of a member');
  return scope.userId;
}

export async function getPreferences(db: Database, scope: Scope): Promise<PreferencesView> {
  const [row] = await db
    .select()
    .from(notificationPreferences)
    .where(
      and(
        eq(notificationPreferences.organizationId, scope.organizationId),
        eq(notificationPreferences.userId, personOf(scope)),
      ),
    );
  return {
    channels: (row?.channels as PreferencesView['channels']) ?? {},
    quietHours: (row?.quietHours as PreferencesView['quietHours']) ?? null,
    digestFrequency: (row?.digestFrequency as PreferencesView['digestFrequency']) ?? 'off',
  };
}

export async function updatePreferences(db: Database, scope: Scope, input: PreferencesInput): Promise<PreferencesView> {
  const userId = personOf(scope);
  const current = await getPreferences(db, scope);
  const next: PreferencesView = {
    channels: input.channels ?? current.channels,
    quietHours: input.quietHours === undefined ? current.quietHours : input.quietHours,
    digestFrequency: input.digestFrequency ?? current.digestFrequency,
  };
  await db.transaction(async (tx) => {
    await tx
      .insert(notificationPreferences)
      .values({ organizationId: scope.organizationId, userId, ...next })
      .onConflictDoUpdate({
        target: [notificationPreferences.organizationId, notificationPreferences.userId],
        set: { ...next, updatedAt: new Date() },
      });
    await recordAudit(tx, scope, {
      action: 'notification_preferences.updated',
      entityType: 'notification_preferences',
      entityId: userId,
      metadata: { fields: Object.keys(input) },
    });
  });
  return next;
}

type Row = typeof notifications.$inferSelect & { ruleName: string | null };

function view(r: Row): NotificationView {
  return {
    id: r.id,
    channel: r.channel as NotificationView['channel'],
    eventType: r.eventType,
    category: r.category,
    severity: r.severity as NotificationView['severity'],
    title: r.title,
    body: r.body,
    link: r.link,
    ticketId: r.ticketId,
    ruleId: r.ruleId,
    ruleName: r.ruleName,
    status: r.status as NotificationView['status'],
    reason: r.reason,
    deliverAfter: r.deliverAfter?.toISOString() ?? null,
    alertId: r.alertId,
    createdAt: r.createdAt.toISOString(),
    sentAt: r.sentAt?.toISOString() ?? null,
    readAt: r.readAt?.toISOString() ?? null,
  };
}

const PAGE = 50;

async function listOf(db: Database, scope: Scope, where: ReturnType<typeof and>, before?: number) {
  const rows = await db
    .select({ n: notifications, ruleName: notificationRules.name })
    .from(notifications)
    .leftJoin(notificationRules, eq(notificationRules.id, notifications.ruleId))
    .where(
      and(
        eq(notifications.organizationId, scope.organizationId),
        eq(notifications.userId, personOf(scope)),
        where,
        before ? lt(notifications.id, before) : undefined,
      ),
    )
    .orderBy(desc(notifications.id))
    .limit(PAGE);
  return rows.map((r) => view({ ...r.n, ruleName: r.ruleName }));
}

/** The in-app centre: what reached the member in the app (digests as one entry), newest first, and the unread count. */
export async function listInbox(db: Database, scope: Scope, before?: number) {
  const data = await listOf(
    db,
    scope,
    and(eq(notifications.channel, 'in_app'), eq(notifications.status, 'sent')),
    before,
  );
  const [{ unread }] = (
    await db.execute<{ unread: string }>(sql`
      select count(*) as unread from notifications
      where organization_id = ${scope.organizationId} and user_id = ${personOf(scope)} and channel = 'in_app'
        and status = 'sent' and read_at is null`)
  ).rows as [{ unread: string }];
  return { data, unread: Number(unread) };
}

/** Marks these (or all) of the member's in-app notifications read; returns the new unread count. */
export async function markRead(db: Database, scope: Scope, ids: number[] | 'all'): Promise<number> {
  await db
    .update(notifications)
    .set({ readAt: new Date() })
    .where(
      and(
        eq(notifications.organizationId, scope.organizationId),
        eq(notifications.userId, personOf(scope)),
        eq(notifications.channel, 'in_app'),
        // Only what reached the centre: one still deferred arrives unread when its quiet hours end.
        eq(notifications.status, 'sent'),
        isNull(notifications.readAt),
        ids === 'all' ? undefined : inArray(notifications.id, ids),
      ),
    );
  return (await listInbox(db, scope)).unread;
}

/** The fatigue view: every notification held back from the member, on any channel, with the reason. */
export async function listHeldBack(db: Database, scope: Scope, before?: number) {
  return listOf(
    db,
    scope,
    and(
      inArray(notifications.status, ['suppressed', 'throttled', 'deferred', 'digested', 'failed']),
      ne(notifications.eventType, 'digest'),
    ),
    before,
  );
}

/**
 * Who would be notified of a sample event, on which channel, and when: the routing statement itself over the sample
 * (with the saved rules, or one unsaved rule), then each member's preferences and quiet hours through the planner.
 */
export async function previewNotifications(
  db: Database,
  scope: Scope,
  input: PreviewInput,
  publicUrl: string,
): Promise<PreviewView> {
  const now = new Date();
  const t = input.ticket ?? {};
  const ticketId = randomUUID();
  const payload = {
    ticket: {
      id: ticketId,
      number: 0,
      subject: 'Sample ticket',
      status: t.status ?? 'open',
      priority: t.priority ?? 'normal',
      assigneeId: t.assigneeId ?? null,
      requesterId: t.requesterEmail ? randomUUID() : null,
      tags: t.tags ?? [],
      channel: t.channel ?? 'web',
      firstResponseDueAt: null,
      resolutionDueAt: null,
      version: 1,
    },
    sampleRequesterEmail: t.requesterEmail ?? null,
  };
  const event: RoutableEvent = {
    eventId: null,
    organizationId: scope.organizationId,
    ticketId: input.eventType === 'integration.failed' ? null : ticketId,
    type: input.eventType,
    payload: input.eventType === 'integration.failed' ? { integrationId: 'sample', label: 'Sample' } : payload,
    actorUserId: null,
    createdAt: now.toISOString(),
    dedupeKey: 'preview',
  };
  const events = eventsRelation([event], publicUrl);
  const r = input.rule;
  const rules = r
    ? sql`(select null::uuid as id, ${scope.organizationId}::text as organization_id, ${r.name}::text as name,
          ${JSON.stringify(r.triggerEvents)}::jsonb as trigger_events, ${JSON.stringify(r.recipients)}::jsonb as recipients,
          ${JSON.stringify(r.channels)}::jsonb as channels,
          ${JSON.stringify(r.delivery ?? { mode: 'immediate' })}::jsonb as delivery,
          ${r.severity ?? 'normal'}::text as severity, null::jsonb as escalation,
          ${r.webhookEndpointId ?? null}::uuid as webhook_endpoint_id,
          ${JSON.stringify(r.conditions ?? {})}::jsonb as conditions, true as is_active)`
    : sql`notification_rules`;
  const rows = await db.execute<{
    rule_id: string | null;
    rule_name: string;
    recipient_key: string;
    user_id: string | null;
    channel: string;
    severity: 'normal' | 'critical';
    delivery: DueNotification['delivery'];
  }>(sql`select m.rule_id, m.rule_name, m.recipient_key, m.user_id, m.channel, m.severity, m.delivery
         from (${matchingQuery(events, rules)}) m`);
  const userIds = [...new Set(rows.rows.flatMap((x) => (x.user_id ? [x.user_id] : [])))];
  const people = userIds.length
    ? await db.execute<{
        id: string;
        name: string | null;
        email: string;
        channels: Record<string, string[]> | null;
        quiet_hours: { start: string; end: string; timeZone: string } | null;
        digest_frequency: string | null;
      }>(sql`
        select u.id, u.name, u.email, p.channels, p.quiet_hours, p.digest_frequency from "user" u
        left join notification_preferences p on p.user_id = u.id and p.organization_id = ${scope.organizationId}
        where u.id = any(${sql.param(userIds)}::text[])`)
    : { rows: [] };
  const byId = new Map(people.rows.map((p) => [p.id, p]));
  const data = rows.rows.map((row, i) => {
    const person = row.user_id ? byId.get(row.user_id) : undefined;
    const digestMinutes =
      person?.digest_frequency === 'hourly' ? 60 : person?.digest_frequency === 'daily' ? 1440 : null;
    const plan = planNotifications(
      {
        items: [
          {
            id: i,
            channel: row.channel,
            target: '',
            category: categoryOf(input.eventType),
            severity: row.severity,
            delivery: row.delivery,
            groupKey: '',
            ruleId: row.rule_id,
            status: 'pending',
            createdAt: now.toISOString(),
            deliverAfter: null,
            failingSince: null,
          },
        ],
        channelsByCategory: person?.channels ?? null,
        quietUntil: quietHoursEnd(person?.quiet_hours ?? null, now)?.toISOString() ?? null,
        digestMinutes,
        sentInWindow: {},
        more: false,
        nextDeferredAt: null,
      },
      now.getTime(),
    );
    const decided = plan.decisions[0];
    const decision = plan.sends.length
      ? ('send_now' as const)
      : decided?.status === 'suppressed'
        ? ('suppressed' as const)
        : decided?.status === 'deferred'
          ? ('defer_quiet_hours' as const)
          : row.delivery.mode === 'throttle'
            ? ('throttle_window' as const)
            : ('digest' as const);
    const when = decided?.deliverAfter ?? plan.wakeAt ?? now.toISOString();
    const label = person
      ? `${person.name ?? person.email} (${person.email})`
      : row.recipient_key.startsWith('slack:')
        ? `Slack channel ${row.recipient_key.split(':')[2]}`
        : `the requester (${t.requesterEmail ?? 'unknown'})`;
    return {
      ruleId: row.rule_id,
      ruleName: row.rule_name,
      recipient: { key: row.recipient_key, label, userId: row.user_id },
      channel: row.channel as PreviewView['data'][number]['channel'],
      decision,
      when,
      reason: decided?.reason ?? null,
    };
  });
  // The Slack message exactly as the Slack channel would build it for this sample (its text rendered as routing
  // renders it), so the editor shows what people will see rather than a likeness.
  // Also while the rule as written names Slack and nobody would get it there yet (no workspace connected).
  const showsSlack = data.some((d) => d.channel === 'slack') || !!r?.channels.includes('slack');
  const rendered = renderEvent(event, publicUrl);
  const slackMessage = showsSlack
    ? slackNotificationMessage(
        [
          {
            id: 0,
            eventType: input.eventType,
            severity: rows.rows.find((r) => r.channel === 'slack')?.severity ?? 'normal',
            title: rendered.title,
            body: rendered.body,
            link: rendered.link,
            ticketId: null,
            alertId: r?.escalation ? '00000000-0000-4000-8000-000000000000' : null,
            createdAt: now.toISOString(),
          },
        ],
        false,
      )
    : null;
  return { slackMessage, data };
}
