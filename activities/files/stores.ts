// Which store holds an organisation's files: its own storage integration (type `storage`, credentials sealed like
// every integration's), or the deployment's default. An organisation's endpoint is its admin's input, so it is
// reached through the SSRF-guarded agents, like a webhook URL; the deployment's default is the operator's and is
// reached directly (it is often on loopback or a private network).
import { type Database, integrationConfigs } from '@switchboard/database';
import { and, asc, eq } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import { onFirstUse } from '../../common/lazy-module.ts';
import {
  organizationStorageConfigSchema,
  organizationStorageCredentialsSchema,
} from '../../domain/files/storage-config.ts';
import type { DefaultStore } from '../../packages/integrations/files/settings.ts';
import { createGuardedAgents, type GuardedAgents, systemResolve } from '../http/guarded-agent.ts';
import { parseAllowList } from '../http/ssrf-guard.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { openBlobStore } from './storage/config.ts';

export type StoreDeps = {
  db: Database;
  credentialKeys: KeyRing;
  defaultStore: DefaultStore;
  /** CIDRs an organisation's storage endpoint may reach although private (the webhooks' allow-list). */
  allowCidrs: readonly string[];
};

export type StoreRef = { organizationId: string; storageIntegrationId: string | null };

/** Opened stores, by integration id and its last change: opening one builds a client, not a connection. */
export class StoreDirectory {
  /** Opened once, by the first file that needs it; a failure to open is not kept, so the next file tries again. */
  readonly #default = onFirstUse(() => openDefaultStore(this.deps.defaultStore));
  #byIntegration = new Map<string, { updatedAt: number; store: BlobStore }>();
  #agents: GuardedAgents | undefined;

  private readonly deps: StoreDeps;
  constructor(deps: StoreDeps) {
    this.deps = deps;
  }

  /** The store a new upload of the organisation goes to: its oldest active storage integration, else the default. */
  async forUpload(organizationId: string): Promise<{ store: BlobStore; storageIntegrationId: string | null }> {
    const [row] = await this.deps.db
      .select({ id: integrationConfigs.id })
      .from(integrationConfigs)
      .where(
        and(
          eq(integrationConfigs.organizationId, organizationId),
          eq(integrationConfigs.integrationType, 'storage'),
          eq(integrationConfigs.isActive, true),
        ),
      )
      .orderBy(asc(integrationConfigs.createdAt), asc(integrationConfigs.id))
      .limit(1);
    const storageIntegrationId = row?.id ?? null;
    return { store: await this.of({ organizationId, storageIntegrationId }), storageIntegrationId };
  }

  /** The store that holds a file: the one it was written to, even if the organisation has switched since. */
  async of(ref: StoreRef): Promise<BlobStore> {
    if (!ref.storageIntegrationId) return this.defaultStore();
    const [row] = await this.deps.db
      .select({ config: integrationConfigs.config, updatedAt: integrationConfigs.updatedAt })
      .from(integrationConfigs)
      .where(
        and(
          eq(integrationConfigs.id, ref.storageIntegrationId),
          eq(integrationConfigs.organizationId, ref.organizationId),
        ),
      );
    if (!row) throw new Error(`storage integration ${ref.storageIntegrationId} no longer exists`);
    const cached = this.#byIntegration.get(ref.storageIntegrationId);
    if (cached && cached.updatedAt === row.updatedAt.getTime()) return cached.store;
    const credentials = await loadIntegrationCredentials(
      this.deps.db,
      this.deps.credentialKeys,
      ref.organizationId,
      ref.storageIntegrationId,
    );
    const config = organizationStorageConfigSchema.parse(row.config);
    const agents = this.guardedAgents();
    // Connections go through the guard: an admin's endpoint must not reach the deployment's private network.
    const agent = plainHttp(config.endpoint, credentials) ? agents.http : agents.https;
    const store = await openBlobStore(config, organizationStorageCredentialsSchema.parse(credentials), { agent });
    this.#byIntegration.set(ref.storageIntegrationId, { updatedAt: row.updatedAt.getTime(), store });
    return store;
  }

  close(): void {
    this.#agents?.destroy();
  }

  private defaultStore(): Promise<BlobStore> {
    return this.#default();
  }

  private guardedAgents(): GuardedAgents {
    this.#agents ??= createGuardedAgents({ allowList: parseAllowList(this.deps.allowCidrs), resolve: systemResolve });
    return this.#agents;
  }
}

export function openDefaultStore(store: DefaultStore): Promise<BlobStore> {
  switch (store.driver) {
    case 'local':
      return openBlobStore({ driver: 'local', root: store.root }, undefined);
    case 's3':
      return openBlobStore(
        { driver: 's3', endpoint: store.endpoint, region: store.region, bucket: store.bucket, pathStyle: true },
        { accessKey: store.accessKey, secretKey: store.secretKey },
      );
    case 'azure':
      return openBlobStore(
        { driver: 'azure', endpoint: store.endpoint, container: store.container },
        { accountName: store.accountName, accountKey: store.accountKey },
      );
  }
}

/** Whether the store is reached over plain http: its endpoint, or an Azure connection string's, says so. */
function plainHttp(endpoint: string | undefined, credentials: unknown): boolean {
  if (endpoint) return endpoint.startsWith('http:');
  const connection = (credentials as { connectionString?: unknown } | null)?.connectionString;
  if (typeof connection !== 'string') return false;
  const fields = new Map(
    connection
      .split(';')
      .map((part) => part.split(/=(.*)/s, 2) as [string, string])
      .map(([key, value]) => [key.trim().toLowerCase(), (value ?? '').trim()]),
  );
  const blob = fields.get('blobendpoint');
  if (blob) return blob.toLowerCase().startsWith('http:');
  return fields.get('defaultendpointsprotocol')?.toLowerCase() === 'http';
}
