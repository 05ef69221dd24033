// The quarantine sweep: objects in a store that no live file claims. An upload that crashed between writing its
// object and committing its row, a delete whose object removal failed after the commit, an infected or failed
// file whose object survived: each leaves an object nothing serves. Objects younger than `graceMs` are left alone,
// because an upload may be writing one right now and commit its row in a moment.
import { type Database, integrationConfigs, ticketAttachments } from '@switchboard/database';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { BlobStore } from './storage/blob-store.ts';
import type { StoreDirectory } from './stores.ts';

const KEY = /^attachments\/([^/]+)\/([0-9a-f-]{36})(\.thumb)?$/;

export type SweepResult = { examined: number; removed: number };

export async function sweepStore(
  db: Database,
  store: BlobStore,
  options: { graceMs: number; now?: number; prefix?: string },
): Promise<SweepResult> {
  const now = options.now ?? Date.now();
  let examined = 0;
  let removed = 0;
  let batch: Array<{ key: string; id: string; thumb: boolean }> = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const live = await db
      .select({ id: ticketAttachments.id, thumbnailKey: ticketAttachments.thumbnailKey })
      .from(ticketAttachments)
      .where(
        and(
          inArray(
            ticketAttachments.id,
            batch.map((b) => b.id),
          ),
          isNull(ticketAttachments.deletedAt),
          inArray(ticketAttachments.scanStatus, ['pending_scan', 'clean']),
        ),
      );
    const claimed = new Set(live.flatMap((row) => [row.id, ...(row.thumbnailKey ? [`${row.id}.thumb`] : [])]));
    for (const item of batch) {
      if (claimed.has(item.thumb ? `${item.id}.thumb` : item.id)) continue;
      await store.delete(item.key);
      removed++;
    }
    batch = [];
  };
  for await (const object of store.list(options.prefix ?? 'attachments/')) {
    examined++;
    if (now - object.lastModified.getTime() < options.graceMs) continue;
    const match = KEY.exec(object.key);
    if (!match) continue;
    batch.push({ key: object.key, id: match[2]!, thumb: match[3] !== undefined });
    if (batch.length >= 500) await flush();
  }
  await flush();
  return { examined, removed };
}

/** Every store in use: the default, and each organisation's storage integration. */
export async function sweepAllStores(
  db: Database,
  stores: StoreDirectory,
  graceMs: number,
): Promise<SweepResult & { stores: number; failed: string[] }> {
  const total = { examined: 0, removed: 0, stores: 0, failed: [] as string[] };
  const refs: Array<{ organizationId: string; storageIntegrationId: string | null }> = [
    { organizationId: '', storageIntegrationId: null },
  ];
  const rows = await db
    .select({ id: integrationConfigs.id, organizationId: integrationConfigs.organizationId })
    .from(integrationConfigs)
    .where(eq(integrationConfigs.integrationType, 'storage'));
  for (const row of rows) refs.push({ organizationId: row.organizationId, storageIntegrationId: row.id });
  for (const ref of refs) {
    try {
      const result = await sweepStore(db, await stores.of(ref), { graceMs });
      total.examined += result.examined;
      total.removed += result.removed;
      total.stores++;
    } catch (error) {
      // One unreachable store must not stop the others' sweep; the next run tries it again.
      total.failed.push(`${ref.storageIntegrationId ?? 'default'}: ${(error as Error).message}`);
    }
  }
  return total;
}
