// Notification rules: what admins write, checked against the organisation before anything is stored (a person from
// another organisation, a channel that is not connected, a requester on an internal event are refused with a 422
// naming the field), and the defaults every organisation starts with.
import { type Database, type Executor, notificationRules } from '@switchboard/database';
import { and, asc, eq, sql } from 'drizzle-orm';
import { conflict, type ErrorDetail, notFound, validationFailed } from '../../common/errors.ts';
import { recordAudit } from '../audit.ts';
import type { Scope } from '../scope.ts';
import {
  type CreateRuleInput,
  MAX_RULES_PER_ORGANIZATION,
  type NotificationRecipient,
  type RuleView,
  type UpdateRuleInput,
} from './schemas.ts';

type RuleRow = typeof notificationRules.$inferSelect;

/** The requester hears only of what is theirs to know, by email: their ticket was received, or moved on. */
export const REQUESTER_EVENTS = ['ticket.created', 'ticket.status_changed'] as const;

/** Kept or edited by admins; never deleted (switched off instead), so seeding them again is a no-op. */
export const DEFAULT_RULES: Array<CreateRuleInput & { defaultKey: string }> = [
  {
    defaultKey: 'urgent_ticket',
    name: 'New urgent ticket',
    triggerEvents: ['ticket.created'],
    conditions: { priorities: ['urgent'] },
    recipients: [{ type: 'assignee', whenUnassigned: 'team' }],
    channels: ['in_app', 'email', 'slack'],
    delivery: { mode: 'immediate' },
    severity: 'normal',
  },
  {
    defaultKey: 'sla_warning',
    name: 'SLA warning',
    triggerEvents: ['sla.warning'],
    recipients: [{ type: 'assignee' }],
    channels: ['in_app', 'email', 'slack'],
    delivery: { mode: 'immediate' },
    severity: 'normal',
  },
  {
    defaultKey: 'sla_breach',
    name: 'SLA breach',
    triggerEvents: ['sla.breached'],
    recipients: [{ type: 'assignee' }, { type: 'role', role: 'admin' }],
    channels: ['in_app', 'email', 'slack'],
    delivery: { mode: 'immediate' },
    severity: 'critical',
    escalation: { afterMinutes: 15, recipients: [{ type: 'role', role: 'admin' }] },
  },
  {
    defaultKey: 'integration_failed',
    name: 'Integration failing',
    triggerEvents: ['integration.failed'],
    recipients: [{ type: 'role', role: 'admin' }],
    channels: ['in_app', 'email'],
    // The failing integration is the throttle's key: one notice an hour per integration, however often it fails.
    delivery: { mode: 'throttle', limit: 1, windowMinutes: 60, key: 'ticket' },
    severity: 'normal',
  },
];

/**
 * Seeds the defaults of these organisations where they are missing (one statement; the relay calls it for each
 * organisation it has not seen yet, so an organisation has them before its first event is routed).
 */
export async function ensureDefaultRules(db: Executor, organizationIds: readonly string[]): Promise<void> {
  if (organizationIds.length === 0) return;
  await db.execute(sql`
    insert into notification_rules (organization_id, name, trigger_events, conditions, recipients, channels,
      delivery, severity, escalation, default_key)
    select o, d.name, d.trigger_events, d.conditions, d.recipients, d.channels, d.delivery, d.severity, d.escalation,
      d.default_key
    from unnest(${sql.param([...new Set(organizationIds)])}::text[]) o
    cross join jsonb_to_recordset(${JSON.stringify(
      DEFAULT_RULES.map((r) => ({
        name: r.name,
        trigger_events: r.triggerEvents,
        conditions: r.conditions ?? {},
        recipients: r.recipients,
        channels: r.channels,
        delivery: r.delivery,
        severity: r.severity,
        escalation: r.escalation ?? null,
        default_key: r.defaultKey,
      })),
    )}::jsonb) as d(name text, trigger_events jsonb, conditions jsonb, recipients jsonb, channels jsonb,
                     delivery jsonb, severity text, escalation jsonb, default_key text)
    where not exists (select 1 from notification_rules r where r.organization_id = o and r.default_key = d.default_key)
    on conflict do nothing`);
}

export function ruleView(row: RuleRow): RuleView {
  return {
    id: row.id,
    name: row.name,
    triggerEvents: row.triggerEvents as string[],
    conditions: row.conditions as RuleView['conditions'],
    channels: row.channels as RuleView['channels'],
    recipients: row.recipients as RuleView['recipients'],
    delivery: row.delivery as RuleView['delivery'],
    severity: row.severity as RuleView['severity'],
    escalation: (row.escalation as RuleView['escalation']) ?? null,
    webhookEndpointId: row.webhookEndpointId,
    isActive: row.isActive,
    defaultKey: row.defaultKey,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function listRules(db: Database, scope: Scope): Promise<RuleView[]> {
  await ensureDefaultRules(db, [scope.organizationId]);
  const rows = await db
    .select()
    .from(notificationRules)
    .where(eq(notificationRules.organizationId, scope.organizationId))
    .orderBy(asc(notificationRules.createdAt), asc(notificationRules.id));
  return rows.map(ruleView);
}

async function loadRule(db: Executor, scope: Scope, id: string): Promise<RuleRow> {
  const [row] = await db
    .select()
    .from(notificationRules)
    .where(and(eq(notificationRules.id, id), eq(notificationRules.organizationId, scope.organizationId)));
  if (!row) throw notFound('notification rule');
  return row;
}

export async function getRule(db: Database, scope: Scope, id: string): Promise<RuleView> {
  return ruleView(await loadRule(db, scope, id));
}

/** What is wrong with a rule in this organisation, each problem named by its field. */
export async function ruleProblems(
  db: Executor,
  organizationId: string,
  rule: CreateRuleInput,
  /** On an update, the channels it had: those stay (a default names Slack before Slack is installed). */
  keptChannels: readonly string[] = [],
): Promise<ErrorDetail[]> {
  const problems: ErrorDetail[] = [];
  const connected = await db.execute<{ integration_type: string; id: string }>(sql`
    select integration_type, id from integration_configs
    where organization_id = ${organizationId} and is_active and disabled_reason is null
      and integration_type in ('email', 'slack', 'webhook')`);
  const byType = (type: string) => connected.rows.filter((r) => r.integration_type === type).map((r) => r.id);
  rule.channels.forEach((channel, i) => {
    const added = !keptChannels.includes(channel);
    if ((channel === 'email' || channel === 'slack') && added && byType(channel).length === 0)
      problems.push({ path: `body.channels.${i}`, message: `no ${channel} integration is connected` });
  });
  if (rule.channels.includes('webhook')) {
    if (!rule.webhookEndpointId)
      problems.push({ path: 'body.webhookEndpointId', message: 'the webhook channel needs an endpoint' });
    else if (!byType('webhook').includes(rule.webhookEndpointId))
      problems.push({ path: 'body.webhookEndpointId', message: 'no such enabled webhook endpoint' });
  }
  const recipients = async (list: NotificationRecipient[], path: string) => {
    const userIds = list.flatMap((r) => (r.type === 'user' ? [r.userId] : []));
    const members = userIds.length
      ? await db.execute<{ user_id: string }>(sql`
          select user_id from member where organization_id = ${organizationId}
            and user_id = any(${sql.param(userIds)}::text[])`)
      : { rows: [] };
    const memberIds = new Set(members.rows.map((m) => m.user_id));
    list.forEach((r, i) => {
      const at = `${path}.${i}`;
      if (r.type === 'user' && !memberIds.has(r.userId))
        problems.push({ path: `${at}.userId`, message: 'not a member of this organisation' });
      if (r.type === 'slack_channel' && !byType('slack').includes(r.integrationId))
        problems.push({ path: `${at}.integrationId`, message: 'no such connected Slack workspace' });
      if (r.type === 'slack_channel' && !rule.channels.includes('slack'))
        problems.push({ path: at, message: 'a Slack channel is reached through the slack channel: add it' });
      if (r.type === 'requester') {
        if (!rule.channels.includes('email'))
          problems.push({ path: at, message: 'the requester is notified by email: add the email channel' });
        const internal = rule.triggerEvents.filter((t) => !(REQUESTER_EVENTS as readonly string[]).includes(t));
        if (internal.length)
          problems.push({ path: at, message: `the requester is never told of ${internal.join(', ')}` });
      }
      if (r.type === 'assignee' && rule.triggerEvents.includes('integration.failed'))
        problems.push({ path: at, message: 'integration.failed has no ticket, so no assignee' });
    });
  };
  await recipients(rule.recipients, 'body.recipients');
  if (rule.escalation) {
    if (rule.severity !== 'critical')
      problems.push({ path: 'body.escalation', message: 'only a critical rule escalates: set severity to critical' });
    if (rule.triggerEvents.includes('integration.failed'))
      problems.push({ path: 'body.escalation', message: 'integration.failed alerts do not escalate' });
    await recipients(rule.escalation.recipients, 'body.escalation.recipients');
  }
  return problems;
}

function columns(input: CreateRuleInput) {
  return {
    name: input.name,
    triggerEvents: input.triggerEvents,
    conditions: input.conditions ?? {},
    channels: input.channels,
    recipients: input.recipients,
    delivery: input.delivery ?? { mode: 'immediate' as const },
    severity: input.severity ?? 'normal',
    escalation: input.escalation ?? null,
    webhookEndpointId: input.webhookEndpointId ?? null,
    isActive: input.isActive ?? true,
  };
}

async function refuseProblems(
  db: Executor,
  scope: Scope,
  rule: CreateRuleInput,
  keptChannels: readonly string[] = [],
): Promise<void> {
  const problems = await ruleProblems(db, scope.organizationId, rule, keptChannels);
  if (problems.length) throw validationFailed(`the rule is not valid: ${problems[0]!.message}`, problems);
}

export async function createRule(db: Database, scope: Scope, input: CreateRuleInput): Promise<RuleView> {
  return db.transaction(async (tx) => {
    await refuseProblems(tx, scope, input);
    // Serialises creates per organisation, so the cap holds under concurrent requests.
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext('notification_rules'), hashtext(${scope.organizationId}))`,
    );
    const [{ n }] = (
      await tx.execute<{ n: string }>(
        sql`select count(*) as n from notification_rules where organization_id = ${scope.organizationId}`,
      )
    ).rows as [{ n: string }];
    if (Number(n) >= MAX_RULES_PER_ORGANIZATION)
      throw conflict(`an organisation has at most ${MAX_RULES_PER_ORGANIZATION} notification rules`);
    const [row] = await tx
      .insert(notificationRules)
      .values({ organizationId: scope.organizationId, ...columns(input) })
      .returning();
    await recordAudit(tx, scope, {
      action: 'notification_rule.created',
      entityType: 'notification_rule',
      entityId: row!.id,
      metadata: { name: row!.name },
    });
    return ruleView(row!);
  });
}

export async function updateRule(db: Database, scope: Scope, id: string, patch: UpdateRuleInput): Promise<RuleView> {
  return db.transaction(async (tx) => {
    const current = ruleView(await loadRule(tx, scope, id));
    const merged: CreateRuleInput = {
      name: patch.name ?? current.name,
      triggerEvents: (patch.triggerEvents ?? current.triggerEvents) as CreateRuleInput['triggerEvents'],
      conditions: patch.conditions ?? current.conditions,
      channels: patch.channels ?? current.channels,
      recipients: patch.recipients ?? current.recipients,
      delivery: patch.delivery ?? current.delivery,
      severity: patch.severity ?? current.severity,
      escalation: patch.escalation === undefined ? current.escalation : patch.escalation,
      webhookEndpointId: patch.webhookEndpointId === undefined ? current.webhookEndpointId : patch.webhookEndpointId,
      isActive: patch.isActive ?? current.isActive,
    };
    await refuseProblems(tx, scope, merged, current.channels);
    const [row] = await tx
      .update(notificationRules)
      .set({ ...columns(merged), updatedAt: new Date() })
      .where(and(eq(notificationRules.id, id), eq(notificationRules.organizationId, scope.organizationId)))
      .returning();
    await recordAudit(tx, scope, {
      action: 'notification_rule.updated',
      entityType: 'notification_rule',
      entityId: id,
      metadata: { fields: Object.keys(patch) },
    });
    return ruleView(row!);
  });
}

export async function deleteRule(db: Database, scope: Scope, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await loadRule(tx, scope, id);
    if (row.defaultKey) throw conflict('a default rule is switched off (isActive: false), not deleted');
    await tx
      .delete(notificationRules)
      .where(and(eq(notificationRules.id, id), eq(notificationRules.organizationId, scope.organizationId)));
    await recordAudit(tx, scope, {
      action: 'notification_rule.deleted',
      entityType: 'notification_rule',
      entityId: id,
      metadata: { name: row.name },
    });
  });
}
