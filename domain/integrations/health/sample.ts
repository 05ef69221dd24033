// A sample of an organisation's integration health: the monitor's answer, remembered per item
// (integration_health_states) so that a change into failing or disconnected is noticed once and tells the admins
// (routeIntegrationFailure; its rules throttle it further), and so /metrics can count by type without evaluating
// every organisation on each scrape. Every read of GET /api/integrations/health is a sample, and the API process
// samples every organisation each minute (startIntegrationHealthSampler), so a failure is noticed with nobody looking.
import { sql } from 'drizzle-orm';
import type { RecipientToWake } from '../../../activities/notifications/route.ts';
import type { IntegrationHealthStatus, ServiceDeps } from '../../../common/integration-contract.ts';
import { routeIntegrationFailure, wakeIntegrationFailureRecipients } from '../../notifications/integration-failure.ts';
import { type HealthModules, type IntegrationHealthItem, readIntegrationHealth } from './report.ts';

/** Counts older than this are deleted by the sampler: the monitor shows six hours, the metrics one. */
export const OUTCOME_RETENTION_MS = 7 * 24 * 60 * 60_000;
export const SAMPLE_EVERY_MS = 60_000;

const working: ReadonlySet<IntegrationHealthStatus | null> = new Set(['healthy', 'unknown', 'degraded', null]);
const broken: ReadonlySet<IntegrationHealthStatus> = new Set(['failing', 'disconnected']);

export type HealthTransition = {
  item: IntegrationHealthItem;
  before: IntegrationHealthStatus | null;
  after: IntegrationHealthStatus;
};

/** The reason a failing item shows: why it stopped, else its last error. */
export function reasonOf(item: IntegrationHealthItem): string | null {
  return item.stoppedReason ?? item.lastError;
}

/**
 * Reads the organisation's health, stores it as the latest state of each item, and notifies about each item that
 * went from working (healthy, unknown, degraded, or never seen) to failing or disconnected. The change is claimed in
 * one statement (the previous state read under a row lock), so two samplers at once notify once.
 */
export async function sampleIntegrationHealth(
  deps: ServiceDeps,
  modules: HealthModules,
  organizationId: string,
  now: Date = new Date(),
): Promise<{ items: IntegrationHealthItem[]; transitions: HealthTransition[] }> {
  const items = await readIntegrationHealth(deps, modules, organizationId, now);
  if (items.length === 0) return { items, transitions: [] };
  const input = items.map((i) => ({
    item_key: i.key,
    integration_id: i.integrationId,
    integration_type: i.integrationType,
    status: i.status,
    reason: reasonOf(i)?.slice(0, 1000) ?? null,
    backlog: i.backlog?.count ?? 0,
  }));
  const rows = JSON.stringify(input);
  // Two statements in one transaction: the previous states read under a row lock first (a lock taken in the same
  // statement as the upsert would not see the rows the upsert changes), then the upsert.
  const result = await deps.db.transaction(async (tx) => {
    const previous = await tx.execute<{ item_key: string; status: string }>(sql`
      select item_key, status from integration_health_states
      where organization_id = ${organizationId}
        and item_key in (select item_key from jsonb_to_recordset(${rows}::jsonb) as x(item_key text))
      for update`);
    const saved = await tx.execute<{ item_key: string; inserted: boolean }>(sql`
      insert into integration_health_states as s
        (organization_id, item_key, integration_id, integration_type, status, reason, backlog, changed_at, sampled_at)
      select ${organizationId}, item_key, integration_id, integration_type, status, reason, backlog,
        ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
      from jsonb_to_recordset(${rows}::jsonb)
        as x(item_key text, integration_id uuid, integration_type text, status text, reason text, backlog int)
      on conflict (organization_id, item_key) do update set
        status = excluded.status, reason = excluded.reason, backlog = excluded.backlog,
        integration_type = excluded.integration_type, sampled_at = excluded.sampled_at,
        changed_at = case when s.status is distinct from excluded.status then excluded.changed_at else s.changed_at end
      returning s.item_key, (xmax = 0) as inserted`);
    const before = new Map(previous.rows.map((r) => [r.item_key, r.status]));
    const transitions: HealthTransition[] = [];
    for (const r of saved.rows) {
      const item = items.find((i) => i.key === r.item_key);
      const was = (before.get(r.item_key) ?? null) as IntegrationHealthStatus | null;
      // Updated, yet no previous state was read: another sampler inserted it meanwhile and claimed the change.
      if (!item || (!r.inserted && was === null)) continue;
      if (working.has(was) && broken.has(item.status)) transitions.push({ item, before: was, after: item.status });
    }
    // The notifications are written in the transaction that records the change: noticed means notified. If
    // routing fails, the items keep their previous state (so the next sample notices the change again) and the
    // monitor still answers.
    const recipients: RecipientToWake[] = [];
    for (const { item, before: was } of transitions)
      try {
        recipients.push(
          ...(await tx.transaction((sp) =>
            routeIntegrationFailure(sp, deps.config.publicUrl, {
              organizationId,
              integrationId: item.integrationId,
              itemKey: item.key,
              integrationType: item.integrationType,
              label: item.label,
              reason: reasonOf(item) ?? item.status,
              at: now,
            }),
          )),
        );
      } catch (error) {
        deps.logger.warn({ err: error, organizationId, item: item.key }, 'routing an integration failure failed');
        // A first sample has no previous state: the row goes, and the next sample starts afresh.
        await tx.execute(
          was === null
            ? sql`delete from integration_health_states
                  where organization_id = ${organizationId} and item_key = ${item.key}`
            : sql`update integration_health_states set status = ${was}
                  where organization_id = ${organizationId} and item_key = ${item.key}`,
        );
      }
    return { transitions, recipients };
  });
  const { transitions, recipients } = result;
  await wakeIntegrationFailureRecipients(
    { temporal: deps.temporal, ticketsTaskQueue: deps.config.temporal.ticketsTaskQueue },
    recipients,
  ).catch((error: unknown) =>
    deps.logger.warn(
      { err: error, organizationId },
      'integration failure notified, but waking its recipients failed (they get it with their next notification)',
    ),
  );
  return { items, transitions };
}

/** The organisations with anything to monitor: an integration, or files (the store and the scanner serve them). */
async function monitoredOrganizations(deps: ServiceDeps): Promise<string[]> {
  const result = await deps.db.execute<{ id: string }>(sql`
    select o.id from organization o
    where exists (select 1 from integration_configs c where c.organization_id = o.id)
      or exists (select 1 from ticket_attachments a where a.organization_id = o.id)`);
  return result.rows.map((r) => r.id);
}

/** One round: every monitored organisation sampled, one after another (bounded load), and old counts pruned. */
export async function sampleAllOrganizations(deps: ServiceDeps, modules: HealthModules): Promise<number> {
  const organizations = await monitoredOrganizations(deps);
  for (const organizationId of organizations) {
    await sampleIntegrationHealth(deps, modules, organizationId).catch((error: unknown) =>
      deps.logger.warn({ err: error, organizationId }, 'integration health sample failed'),
    );
  }
  await deps.db.execute(
    sql`delete from integration_outcome_minutes where minute < ${new Date(Date.now() - OUTCOME_RETENTION_MS).toISOString()}::timestamptz`,
  );
  return organizations.length;
}

/**
 * Samples every minute in this process until stopped. A round that outlasts the interval delays the next rather
 * than overlapping it. Each API replica samples; the state update claims each change once, so admins hear once.
 */
export function startIntegrationHealthSampler(
  deps: ServiceDeps,
  modules: HealthModules,
  everyMs: number = SAMPLE_EVERY_MS,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = sampleAllOrganizations(deps, modules)
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'integration health round failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs).unref();
      });
  };
  timer = setTimeout(tick, everyMs).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
