// What the health monitor shows of files: each storage integration of the organisation, the deployment's default
// store and the virus scanner. Two kinds of signal: the upload pipeline's own (files waiting because the store or
// clamd is unreachable, files waiting for a scan, the last scan), and a cheap probe (clamd's PING, a store's HEAD of
// a key that does not exist), cached per process for PROBE_TTL_MS and bounded by PROBE_TIMEOUT_MS, whose outcomes are
// counted like any integration's so the error rate of the last hour means something for them too.
import { integrationConfigs, ticketAttachments } from '@switchboard/database';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { pingClamd } from '../../../activities/files/clamd.ts';
import { filesRuntime } from '../../../activities/files/runtime.ts';
import type { IntegrationHealthReport, IntegrationServer } from '../../../common/integration-contract.ts';
import { integrationRowReport } from '../../../domain/integrations/health.ts';
import { recordDeploymentOutcome, recordIntegrationOutcome } from '../../../domain/integrations/record-outcome.ts';
import { fileSettings } from './settings.ts';

export const PROBE_TTL_MS = 30_000;
export const PROBE_TIMEOUT_MS = 2_000;
/** The keys of the deployment's parts in the monitor (and their outcome counts). */
export const DEFAULT_STORE_KEY = 'storage:default';
export const SCANNER_KEY = 'scanner';
/** The pipeline's words for a wait (activities/files/pipeline.ts waitReason). */
const SCANNER_WAIT = 'the virus scanner%';
const STORE_WAIT = 'the file store is unreachable';
/** A key no upload ever writes (keys are generated ids): the store answers "not there" when it works. */
const PROBE_KEY = 'health-probe/never-written';

type ProbeResult = { ok: true; at: Date } | { ok: false; at: Date; error: string };
type ProbeMemory = {
  latest?: Promise<ProbeResult>;
  fetchedAt: number;
  lastOk: Date | null;
  lastError: ProbeResult | null;
};

// Per process and per probed thing: every organisation's monitor and every scrape share one probe a TTL.
const probes = new Map<string, ProbeMemory>();

function withTimeout(work: Promise<unknown>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
  });
  return Promise.race([work.then(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/** The probe's latest result, run again once the cached one is older than the TTL; `record` counts a fresh one. */
async function probe(
  key: string,
  run: () => Promise<void>,
  record: (result: ProbeResult) => Promise<void>,
): Promise<ProbeMemory & { result: ProbeResult }> {
  const memory = probes.get(key) ?? { fetchedAt: 0, lastOk: null, lastError: null };
  probes.set(key, memory);
  if (!memory.latest || Date.now() - memory.fetchedAt > PROBE_TTL_MS) {
    memory.fetchedAt = Date.now();
    memory.latest = run().then(
      (): ProbeResult => ({ ok: true, at: new Date() }),
      (error: unknown): ProbeResult => ({
        ok: false,
        at: new Date(),
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    const result = await memory.latest;
    if (result.ok) memory.lastOk = result.at;
    else memory.lastError = result;
    await record(result);
  }
  return { ...memory, result: await memory.latest };
}

/** Forgets the cached probes (tests that stop and start clamd or a store). */
export function forgetHealthProbes(): void {
  probes.clear();
}

const later = (a: Date | null, b: Date | null) => (a && b ? (a > b ? a : b) : (a ?? b));

export const filesHealth: NonNullable<IntegrationServer['health']> = async (deps, { organizationId, integrations }) => {
  const { stores } = filesRuntime(deps);
  const settings = fileSettings.of(deps.config);
  const result = await deps.db
    .select({
      storageIntegrationId: ticketAttachments.storageIntegrationId,
      pendingScan: sql<number>`count(*) filter (where ${ticketAttachments.scanStatus} = 'pending_scan')::int`,
      scannerWaits: sql<number>`count(*) filter (where ${ticketAttachments.scanStatus} = 'pending_scan'
        and ${ticketAttachments.waitingReason} like ${SCANNER_WAIT})::int`,
      scannerReason: sql<string | null>`max(${ticketAttachments.waitingReason}) filter (
        where ${ticketAttachments.waitingReason} like ${SCANNER_WAIT})`,
      storeWaits: sql<number>`count(*) filter (where ${ticketAttachments.waitingReason} = ${STORE_WAIT})::int`,
      lastScan: sql<string | null>`max(${ticketAttachments.scannedAt})`,
    })
    .from(ticketAttachments)
    .where(and(eq(ticketAttachments.organizationId, organizationId), isNull(ticketAttachments.deletedAt)))
    .groupBy(ticketAttachments.storageIntegrationId);
  const byStore = new Map(result.map((r) => [r.storageIntegrationId, r]));
  const sum = (f: (r: (typeof result)[number]) => number) => result.reduce((n, r) => n + f(r), 0);
  const lastScan = result.reduce<Date | null>((at, r) => later(at, r.lastScan ? new Date(r.lastScan) : null), null);

  const storeProbe = (storageIntegrationId: string | null) => async () => {
    const store = await stores.of({ organizationId, storageIntegrationId });
    await withTimeout(store.size(PROBE_KEY), 'the file store');
  };

  const rows = await Promise.all(
    integrations.map(async (row): Promise<IntegrationHealthReport> => {
      const waits = byStore.get(row.id)?.storeWaits ?? 0;
      // Only a switched-on store is probed: a disabled one is read for old files, but shown as switched off.
      if (row.isActive)
        await probe(`storage:${row.id}:${row.updatedAt.getTime()}`, storeProbe(row.id), (r) =>
          recordIntegrationOutcome(deps.db, organizationId, row.id, r.ok ? r : { ok: false, error: r.error, at: r.at }),
        );
      // The probe just recorded its outcome on the row: show the row as it is now.
      const [fresh] = await deps.db
        .select()
        .from(integrationConfigs)
        .where(and(eq(integrationConfigs.id, row.id), eq(integrationConfigs.organizationId, organizationId)));
      const report = integrationRowReport(fresh ?? row, {
        backlog: { count: waits, description: 'files waiting for the store' },
      });
      return waits > 0 && report.status === 'healthy'
        ? { ...report, status: 'failing', lastError: `${waits} file(s) wait: ${STORE_WAIT}` }
        : report;
    }),
  );

  const defaultStore = await probe(DEFAULT_STORE_KEY, storeProbe(null), (r) =>
    recordDeploymentOutcome(deps.db, DEFAULT_STORE_KEY, 'storage', r.ok, r.at),
  );
  const defaultWaits = byStore.get(null)?.storeWaits ?? 0;
  const scanner = await probe(
    `${SCANNER_KEY}:${settings.clamd.host}:${settings.clamd.port}`,
    async () => {
      const timeoutMs = Math.min(settings.clamd.timeoutMs, PROBE_TIMEOUT_MS);
      if (!(await pingClamd({ ...settings.clamd, timeoutMs })))
        throw new Error(`the virus scanner (clamd) did not answer PING within ${timeoutMs} ms`);
    },
    (r) => recordDeploymentOutcome(deps.db, SCANNER_KEY, 'storage', r.ok, r.at),
  );
  const scannerWaits = sum((r) => r.scannerWaits);
  const scannerReason = result.find((r) => r.scannerReason)?.scannerReason ?? null;

  return [
    ...rows,
    deploymentPart(DEFAULT_STORE_KEY, 'Default file store', defaultStore, {
      waits: defaultWaits,
      waitReason: STORE_WAIT,
      backlog: { count: defaultWaits, description: 'files waiting for the store' },
    }),
    deploymentPart(SCANNER_KEY, 'Virus scanner', scanner, {
      waits: scannerWaits,
      waitReason: scannerReason ?? 'the virus scanner is unreachable',
      lastPipelineSuccess: lastScan,
      backlog: { count: sum((r) => r.pendingScan), description: 'files waiting for a scan' },
    }),
  ];
};

/**
 * A part of the deployment from its probe and the pipeline: failing while its latest probe failed or files wait on
 * it (the pipeline's own verdict, which outlives a probe that happens to get through), healthy once neither holds.
 */
function deploymentPart(
  key: string,
  label: string,
  probed: ProbeMemory & { result: ProbeResult },
  pipeline: {
    waits: number;
    waitReason: string;
    lastPipelineSuccess?: Date | null;
    backlog: IntegrationHealthReport['backlog'];
  },
): IntegrationHealthReport {
  const failing = !probed.result.ok || pipeline.waits > 0;
  const lastError = !probed.result.ok
    ? probed.result.error
    : pipeline.waits > 0
      ? `${pipeline.waits} file(s) wait: ${pipeline.waitReason}`
      : probed.lastError && !probed.lastError.ok
        ? probed.lastError.error
        : null;
  return {
    key,
    integrationId: null,
    integrationType: 'storage',
    label,
    status: failing ? 'failing' : 'healthy',
    lastSuccessAt: later(probed.lastOk, pipeline.lastPipelineSuccess ?? null),
    lastErrorAt: probed.result.ok
      ? pipeline.waits > 0
        ? probed.result.at
        : (probed.lastError?.at ?? null)
      : probed.result.at,
    lastError,
    stoppedReason: null,
    backlog: pipeline.backlog,
    ticketLevelSync: false,
  };
}
