import { type Database, type Executor, externalSyncRecords, integrationConfigs } from '@switchboard/database';
import { and, asc, count, eq, isNotNull, type SQL, sql } from 'drizzle-orm';
import { notFound } from '../../common/errors.ts';
import type { InstalledIntegration, RelayContext } from '../../common/integration-contract.ts';
import type { Scope } from '../scope.ts';
import { integrationHealth } from './health.ts';
import type { IntegrationView } from './schemas.ts';

export type IntegrationRow = typeof integrationConfigs.$inferSelect;

/** The only way an integration row leaves the domain: credentials are dropped here, the hint kept. */
export function toIntegrationView(row: IntegrationRow, rateLimitedLinks = 0): IntegrationView {
  return {
    id: row.id,
    integrationType: row.integrationType,
    name: row.name,
    isActive: row.isActive,
    config: row.config as Record<string, unknown>,
    credentialsHint: row.credentialsHint,
    health: integrationHealth(row, rateLimitedLinks),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function listIntegrations(db: Database, scope: Scope): Promise<IntegrationView[]> {
  const rows = await db
    .select()
    .from(integrationConfigs)
    .where(eq(integrationConfigs.organizationId, scope.organizationId))
    .orderBy(asc(integrationConfigs.createdAt), asc(integrationConfigs.id));
  const waiting = await rateLimitedLinkCounts(db, scope.organizationId);
  return rows.map((row) => toIntegrationView(row, waiting.get(row.id) ?? 0));
}

/**
 * How many links of each of the organisation's integrations (or of one) wait on a rate limit: what makes an
 * integration `degraded`. A partial index holds only those links, so this reads next to nothing when none waits.
 */
export async function rateLimitedLinkCounts(
  db: Executor,
  organizationId: string,
  integrationId?: string,
): Promise<Map<string, number>> {
  const rows = await db
    .select({ integrationId: externalSyncRecords.integrationConfigId, links: count() })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, organizationId),
        isNotNull(externalSyncRecords.rateLimitedUntil),
        ...(integrationId ? [eq(externalSyncRecords.integrationConfigId, integrationId)] : []),
      ),
    )
    .groupBy(externalSyncRecords.integrationConfigId);
  return new Map(rows.map((r) => [r.integrationId, r.links]));
}

export async function getIntegration(db: Database, scope: Scope, integrationId: string): Promise<IntegrationView> {
  const [row] = await db
    .select()
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, scope.organizationId)));
  if (!row) throw notFound('integration');
  const waiting = await rateLimitedLinkCounts(db, scope.organizationId, row.id);
  return toIntegrationView(row, waiting.get(row.id) ?? 0);
}

/** The installations of the shared types, as the relay's own batch read carries them (`installationsOfBatch`). */
export type InstalledRow = InstalledIntegration & { integrationType: string };

/**
 * The installations (switched on or off) of `types` in the organisations of `organizationIds` (a relation of one
 * column, `organization_id`), as one jsonb array: the relay's batch read carries it, so a batch's events and what is
 * installed for them are one statement. Read back with `installedRows`.
 */
export function installationsOfBatch(organizationIds: SQL, types: readonly string[]): SQL {
  // Without `url`: a webhook endpoint's URL can carry a secret (kept out of the config history for the same reason,
  // migration 0006), and no subscriber needs one to decide who hears.
  return sql`(select coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'organizationId', c.organization_id,
      'integrationType', c.integration_type, 'config', c.config - 'url', 'isActive', c.is_active,
      'createdAt', c.created_at) order by c.created_at, c.id), '[]'::jsonb)
    from integration_configs c
    where c.organization_id in (select organization_id from ${organizationIds})
      and c.integration_type = any(${sql.param([...new Set(types)])}::text[]))`;
}

/** `installationsOfBatch`'s array as rows. */
export function installedRows(json: unknown): InstalledRow[] {
  return (json as Array<Omit<InstalledRow, 'createdAt'> & { createdAt: string }>).map((row) => ({
    ...row,
    createdAt: new Date(row.createdAt),
  }));
}

/**
 * `RelayContext.installedIntegrations` and `activeIntegrations` for one batch: the integrations of the batch's
 * organisations. The `shared` types are read once, in one statement, for whichever subscriber asks first (the
 * others wait for the same answer), unless the batch read brought them already (`sharedRows`); any other type is
 * read when asked. System work, so not scoped to one organisation.
 */
export function relayIntegrations(
  db: Database,
  organizationIds: readonly string[],
  shared: readonly string[] = [],
  sharedRows?: readonly InstalledRow[],
): Pick<RelayContext, 'installedIntegrations' | 'activeIntegrations'> {
  const organizations = [...new Set(organizationIds)];
  // Array parameters, so the text is the same for any number of organisations (the relay prepares it once).
  const read = (types: readonly string[]): Promise<InstalledRow[]> =>
    db
      .select({
        id: integrationConfigs.id,
        organizationId: integrationConfigs.organizationId,
        integrationType: integrationConfigs.integrationType,
        // As the batch read gives it (installationsOfBatch).
        config: sql<unknown>`${integrationConfigs.config} - 'url'`,
        isActive: integrationConfigs.isActive,
        createdAt: integrationConfigs.createdAt,
      })
      .from(integrationConfigs)
      .where(
        and(
          sql`${integrationConfigs.organizationId} = any(${sql.param(organizations)}::text[])`,
          sql`${integrationConfigs.integrationType} = any(${sql.param([...new Set(types)])}::text[])`,
        ),
      )
      .orderBy(asc(integrationConfigs.createdAt), asc(integrationConfigs.id))
      // A drizzle query runs again on every await: `then` runs it once and keeps the answer.
      .then((rows) => rows);
  let sharedRead: Promise<readonly InstalledRow[]> | undefined = sharedRows && Promise.resolve(sharedRows);
  const installed = async (integrationType: string): Promise<InstalledIntegration[]> => {
    if (!shared.includes(integrationType)) return only(await read([integrationType]), integrationType);
    sharedRead ??= read(shared);
    return only(await sharedRead, integrationType);
  };
  return {
    installedIntegrations: installed,
    activeIntegrations: async (integrationType) =>
      (await installed(integrationType)).filter((row) => row.isActive).map(({ isActive: _on, ...row }) => row),
  };
}

function only(rows: readonly InstalledRow[], integrationType: string): InstalledIntegration[] {
  return rows.filter((row) => row.integrationType === integrationType).map(({ integrationType: _type, ...row }) => row);
}

/** A timestamp column as whole microseconds since the epoch (fits a JS number exactly until the year 2255). */
const microseconds = (column: string) => sql.raw(`(extract(epoch from ${column}) * 1000000)::bigint`);

/**
 * The exact times (microseconds since the epoch) of these ticket events: the outbox hands events on with
 * millisecond ISO times, too coarse to order them against an integration's change made in the same millisecond.
 */
export async function eventTimesUs(db: Executor, eventIds: readonly number[]): Promise<Map<number, number>> {
  const result = await db.execute<{ id: string; at_us: string }>(sql`
    select id, ${microseconds('created_at')} as at_us from ticket_events where id = any(${sql.param([...eventIds])}::bigint[])`);
  return new Map(result.rows.map((r) => [Number(r.id), Number(r.at_us)]));
}

/** One integration as it was from `validFrom` until its next version (integration_config_history). */
/** `validFromUs`: microseconds since the epoch, the database's own precision (a Date would cut it to milliseconds). */
export type IntegrationVersion = { validFromUs: number; isActive: boolean; config: unknown };
export type IntegrationTimeline = { id: string; organizationId: string; versions: IntegrationVersion[] };

/**
 * The integrations of a type in these organisations, each with its versions since `since` (and the one in force at
 * `since`), oldest first: enough to tell for any event from `since` on what each integration was when it happened.
 * Integrations created after `since` start with their first version; those deleted are gone (cascade).
 */
export async function integrationTimelinesOf(
  db: Executor,
  integrationType: string,
  organizationIds: readonly string[],
  since: Date,
): Promise<IntegrationTimeline[]> {
  const result = await db.execute<{
    id: string;
    organization_id: string;
    valid_from_us: string;
    is_active: boolean;
    config: unknown;
  }>(sql`
    select h.integration_config_id as id, h.organization_id, h.valid_from, ${microseconds('h.valid_from')} as valid_from_us,
      h.is_active, h.config, h.id as seq
    from integration_configs c
    join integration_config_history h on h.integration_config_id = c.id
    where c.organization_id = any(${sql.param([...organizationIds])}::text[])
      and c.integration_type = ${integrationType}
      and h.valid_from >= coalesce(
        (select max(p.valid_from) from integration_config_history p
          where p.integration_config_id = c.id and p.valid_from <= ${since.toISOString()}::timestamptz),
        '-infinity')
    union all
    -- One with no history at all (restored without triggers, say) is what it is now, since it was created.
    select c.id, c.organization_id, c.created_at, ${microseconds('c.created_at')}, c.is_active, c.config, 0
    from integration_configs c
    where c.organization_id = any(${sql.param([...organizationIds])}::text[])
      and c.integration_type = ${integrationType}
      and not exists (select 1 from integration_config_history h where h.integration_config_id = c.id)
    order by id, valid_from, seq`);
  const timelines = new Map<string, IntegrationTimeline>();
  for (const row of result.rows) {
    const timeline = timelines.get(row.id) ?? { id: row.id, organizationId: row.organization_id, versions: [] };
    timeline.versions.push({ validFromUs: Number(row.valid_from_us), isActive: row.is_active, config: row.config });
    timelines.set(row.id, timeline);
  }
  return [...timelines.values()];
}

/** The version in force at `atUs` (microseconds since the epoch), or undefined when it did not exist yet. */
export function versionAt(timeline: IntegrationTimeline, atUs: number): IntegrationVersion | undefined {
  let found: IntegrationVersion | undefined;
  for (const version of timeline.versions) {
    if (version.validFromUs > atUs) break;
    found = version;
  }
  return found;
}
