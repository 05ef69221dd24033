import { type Executor, integrationConfigs, integrationOutcomeMinutes } from '@switchboard/database';
import { and, eq, type SQL, sql } from 'drizzle-orm';

export type IntegrationOutcome =
  /** `count`: that many successes at once (a batch's sends), counted in the minute's rate as so many. */
  | { ok: true; at?: Date; count?: number }
  /** `error` is shown to admins: describe the failure, never include request bodies or secrets. */
  | { ok: false; error: string; at?: Date; disableReason?: string };

const MAX_ERROR_LENGTH = 1000;

/**
 * What activities report after talking to a third party, and what the health status is derived from.
 * Timestamps only move forward, so a retried attempt that finishes late cannot make an integration look
 * healthier (or sicker) than its latest outcome. `disableReason` is for failures a retry cannot fix
 * (revoked token, deleted endpoint): the integration shows as disabled until an admin switches it on again.
 * Every outcome, late or not, is also counted in its minute (integration_outcome_minutes): the error rate of the last
 * hour and the health history are sums of those counts.
 */
export async function recordIntegrationOutcome(
  db: Executor,
  organizationId: string,
  integrationId: string,
  outcome: IntegrationOutcome,
): Promise<void> {
  const at = outcome.at ?? new Date();
  const scoped = and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, organizationId));
  if (outcome.ok) {
    await countOutcome(
      db,
      at,
      { successes: Math.max(0, Math.floor(outcome.count ?? 1)), errors: 0 },
      db
        .update(integrationConfigs)
        .set({ lastSuccessAt: sql`greatest(${integrationConfigs.lastSuccessAt}, ${at.toISOString()}::timestamptz)` })
        .where(scoped)
        .returning(returned)
        .getSQL(),
    );
    return;
  }
  const update = db
    .update(integrationConfigs)
    .set({
      lastErrorAt: sql`greatest(${integrationConfigs.lastErrorAt}, ${at.toISOString()}::timestamptz)`,
      lastError: sql`case when ${integrationConfigs.lastErrorAt} is null or ${integrationConfigs.lastErrorAt} <= ${at.toISOString()}::timestamptz
        then ${outcome.error.slice(0, MAX_ERROR_LENGTH)} else ${integrationConfigs.lastError} end`,
      ...(outcome.disableReason ? { disabledReason: outcome.disableReason.slice(0, MAX_ERROR_LENGTH) } : {}),
    })
    .where(scoped)
    .returning(returned)
    .getSQL();
  await countOutcome(db, at, { successes: 0, errors: 1 }, update);
}

const returned = {
  id: integrationConfigs.id,
  organizationId: integrationConfigs.organizationId,
  integrationType: integrationConfigs.integrationType,
};

/**
 * The update and the count in one statement (a CTE): one round trip per outcome, and an integration of another
 * organisation (the update matched nothing) counts nothing.
 */
async function countOutcome(
  db: Executor,
  at: Date,
  counts: { successes: number; errors: number },
  update: SQL,
): Promise<void> {
  await db.execute(sql`
    with updated as (${update})
    insert into ${integrationOutcomeMinutes}
      (subject, organization_id, integration_id, integration_type, minute, successes, errors)
    select id::text, organization_id, id, integration_type, date_trunc('minute', ${at.toISOString()}::timestamptz),
      ${counts.successes}::int, ${counts.errors}::int
    from updated
    on conflict (subject, minute) do update set
      successes = ${integrationOutcomeMinutes}.successes + excluded.successes,
      errors = ${integrationOutcomeMinutes}.errors + excluded.errors`);
}

/**
 * An outcome of a part of the deployment that has no integration row (the default file store, the virus scanner):
 * counted like an integration's, with no organisation, so every organisation's monitor shows the same rate.
 */
export async function recordDeploymentOutcome(
  db: Executor,
  subject: string,
  integrationType: string,
  ok: boolean,
  at: Date = new Date(),
): Promise<void> {
  await db.execute(sql`
    insert into ${integrationOutcomeMinutes}
      (subject, organization_id, integration_id, integration_type, minute, successes, errors)
    values (${subject}, null, null, ${integrationType}, date_trunc('minute', ${at.toISOString()}::timestamptz),
      ${ok ? 1 : 0}, ${ok ? 0 : 1})
    on conflict (subject, minute) do update set
      successes = ${integrationOutcomeMinutes}.successes + excluded.successes,
      errors = ${integrationOutcomeMinutes}.errors + excluded.errors`);
}
