// The server side of attachments: the files worker (the pipeline workflows and their activities: clamd, the store,
// the thumbnail renderer), the relay subscriber that starts a pipeline per uploaded file, and the routes.
import { type Database, integrationConfigs, ticketAttachments } from '@switchboard/database';
import { and, count, eq, inArray, isNull } from 'drizzle-orm';
import express from 'express';
import { createFilePipelineActivities } from '../../../activities/files/pipeline.ts';
import { filesRelaySubscriber } from '../../../activities/files/relay-subscriber.ts';
import { filesRuntime } from '../../../activities/files/runtime.ts';
import { configureThumbnailPool } from '../../../activities/files/thumbnail.ts';
import {
  attachmentLinksRouter,
  attachmentStreamingRouter,
  attachmentsRouter,
} from '../../../api/routes/attachments.ts';
import { resumableUploadsRouter } from '../../../api/routes/resumable-uploads.ts';
import { conflict } from '../../../common/errors.ts';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import { filesTaskQueueFor } from '../../../workflows/upload-contract.ts';
import { filesHealth } from './health.ts';
import { fileSettings } from './settings.ts';

export const filesServer: IntegrationServer = {
  health: (deps, input) => filesHealth(deps, input),
  workers(deps) {
    const settings = fileSettings.of(deps.config);
    // Thumbnails render in worker threads of their own, so a 12-megapixel decode never stalls other activities.
    void configureThumbnailPool({ workers: settings.thumbnailThreads });
    return [
      {
        name: 'files',
        taskQueue: filesTaskQueueFor,
        // The pipeline workflows run here, next to their activities.
        workflows: true,
        activities: createFilePipelineActivities({
          db: deps.db,
          credentialKeys: deps.config.credentialKeys,
          stores: filesRuntime(deps).stores,
          clamd: settings.clamd,
          maxImagePixels: settings.maxImagePixels,
        }),
        // Each activity streams one file (scan or thumbnail); a handful at once keeps memory and clamd in bounds.
        maxConcurrentActivities: 8,
        maxConcurrentWorkflowTasks: 20,
      },
    ];
  },
  taskQueues: (ticketsTaskQueue) => [{ name: filesTaskQueueFor(ticketsTaskQueue), workflows: true }],
  relaySubscribers: () => [filesRelaySubscriber()],
  // Every 15 minutes, objects no live file claims and older than an hour (an upload may be writing one now).
  schedules: (ticketsTaskQueue) => [
    {
      scheduleId: `files-sweep/${filesTaskQueueFor(ticketsTaskQueue)}`,
      everyMs: 15 * 60_000,
      workflowType: 'filesSweepWorkflow',
      taskQueue: filesTaskQueueFor(ticketsTaskQueue),
      args: [{ graceMs: 60 * 60_000 }],
    },
  ],
  routes: {
    public: (deps) => attachmentLinksRouter(deps),
    authenticated: (deps) => attachmentsRouter(deps),
    streaming: (deps) => express.Router().use(attachmentStreamingRouter(deps), resumableUploadsRouter(deps)),
  },
  lifecycle: {
    /**
     * Files written to a store stay there: deleting the integration that holds live files would lose them, so it
     * is refused (the foreign key restricts too, for a commit racing this check). The rows of files that are gone
     * (deleted, infected, failed) let go of it first.
     */
    beforeDelete: async (deps, scope, integrationId) => {
      const live = await liveFiles(deps.db, scope.organizationId, integrationId);
      if (live > 0)
        throw conflict(
          `this storage holds ${live} attachment(s) of the organisation; disable it instead (new files then go to ` +
            'the default store, existing ones stay readable)',
        );
      await deps.db
        .update(ticketAttachments)
        .set({ storageIntegrationId: null })
        .where(
          and(
            eq(ticketAttachments.storageIntegrationId, integrationId),
            eq(ticketAttachments.organizationId, scope.organizationId),
          ),
        );
      return async () => {};
    },
    /**
     * Where the files are (driver, endpoint, bucket or container, prefix) cannot change while live files are there:
     * they are read from the store they were written to. Credentials and the name may change.
     */
    beforeUpdate: async (deps, scope, integrationId, changes) => {
      if (changes.config === undefined) return async () => {};
      const [current] = await deps.db
        .select({ config: integrationConfigs.config })
        .from(integrationConfigs)
        .where(
          and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, scope.organizationId)),
        );
      const where = (config: unknown) => {
        const { driver, endpoint, bucket, container, prefix } = (config ?? {}) as Record<string, unknown>;
        return JSON.stringify([driver, endpoint, bucket, container, prefix]);
      };
      if (current && where(current.config) !== where(changes.config)) {
        const live = await liveFiles(deps.db, scope.organizationId, integrationId);
        if (live > 0)
          throw conflict(
            `this storage holds ${live} attachment(s); its driver, endpoint, bucket, container and prefix cannot ` +
              'change while it does (add another storage integration and disable this one instead)',
          );
      }
      return async () => {};
    },
  },
};

/** Files of the organisation in the integration's store that are (or will be) served. */
async function liveFiles(db: Database, organizationId: string, integrationId: string): Promise<number> {
  const [row] = await db
    .select({ files: count() })
    .from(ticketAttachments)
    .where(
      and(
        eq(ticketAttachments.storageIntegrationId, integrationId),
        eq(ticketAttachments.organizationId, organizationId),
        isNull(ticketAttachments.deletedAt),
        inArray(ticketAttachments.scanStatus, ['pending_scan', 'clean']),
      ),
    );
  return row?.files ?? 0;
}
