// Attachments in an organisation's own store (S3 on MinIO, Azure Blob on Azurite, both real servers on loopback),
// and what happens when things fail mid-pipeline: the store goes down (retried, no orphan), the files worker is
// killed in the middle of a scan (the file ends available exactly once), and the sweep removes objects no file
// claims.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { ticketAttachments } from '@switchboard/database';
import { and, eq, isNull } from 'drizzle-orm';
import type { BlobStore } from '../activities/files/storage/blob-store.ts';
import { openBlobStore } from '../activities/files/storage/config.ts';
import { sweepStore } from '../activities/files/sweep.ts';
import { attachmentEvents, download, untilStatus, uploadFiles } from '../activities/files/upload-test-support.ts';
import type { IntegrationDefinition } from '../common/integration-contract.ts';
import { fileSettings } from '../packages/integrations/files/settings.ts';
import { integrations } from '../packages/integrations/index.ts';
import { createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { TEST_DATABASE_URL, testDatabase } from './support/database.ts';
import {
  ensureFileServices,
  startClamd,
  startS3,
  stopClamd,
  stopS3,
  testFileServices,
} from './support/file-services.ts';
import { afterRun } from './support/root-hooks.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';
import { spawnWorkerProcess } from './support/worker-process.ts';

describe('attachments in an organisation’s own store, and failures mid-pipeline', function () {
  this.timeout(180_000);
  const { db } = testDatabase();
  let api: TestApi;
  let pipeline: TestPipeline | undefined;

  before(async () => {
    await ensureFileServices();
    api = await startTestApi();
  });
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
  });
  after(async () => {
    await api?.close();
  });

  async function newTicket(user: TestUser): Promise<string> {
    const created = await user.fetch('POST', '/api/tickets', { subject: `stores ${Date.now()}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id;
  }

  async function connectS3(admin: TestUser): Promise<{ integrationId: string; store: BlobStore; prefix: string }> {
    const { endpoint, bucket, accessKey, secretKey } = testFileServices.s3;
    const prefix = `org-${admin.organizationId.slice(0, 8)}/`;
    const created = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'storage',
      name: 'Our bucket',
      config: { driver: 's3', endpoint, bucket, pathStyle: true, prefix },
      credentials: { accessKey, secretKey },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const store = await openBlobStore(
      { driver: 's3', endpoint, bucket, pathStyle: true, prefix },
      { accessKey, secretKey },
    );
    return { integrationId: created.body.id, store, prefix };
  }

  for (const driver of ['s3', 'azure'] as const) {
    it(`keeps a clean file encrypted in the organisation’s ${driver === 's3' ? 'S3 bucket' : 'Azure container'}`, async () => {
      pipeline = await startPipeline(uniqueTaskQueue(`files-${driver}`));
      const admin = await createTestOrganization({ role: 'admin' });
      let store: BlobStore;
      if (driver === 's3') store = (await connectS3(admin)).store;
      else {
        const { endpoint, container, accountName, accountKey } = testFileServices.azure;
        const prefix = `org-${admin.organizationId.slice(0, 8)}/`;
        const created = await admin.fetch('POST', '/api/integrations', {
          integrationType: 'storage',
          name: 'Our container',
          config: { driver: 'azure', endpoint, container, prefix },
          credentials: { accountName, accountKey },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        store = await openBlobStore({ driver: 'azure', endpoint, container, prefix }, { accountName, accountKey });
      }
      const ticketId = await newTicket(admin);
      const bytes = Buffer.from(`${driver} says hello\n`.repeat(20_000));
      const uploaded = await uploadFiles(api, admin, ticketId, [{ name: 'hello.txt', bytes }]);
      assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
      const row = await untilStatus(uploaded.body.data[0].id, 'clean');
      assert.ok(row.storageIntegrationId, 'written to the organisation’s store, not the default');

      const stored: Buffer[] = [];
      for await (const chunk of await store.get(row.storageKey)) stored.push(chunk as Buffer);
      const object = Buffer.concat(stored);
      assert.ok(object.length > bytes.length);
      assert.equal(object.includes(Buffer.from(`${driver} says hello`)), false, 'the store holds ciphertext');

      const got = await download(api, admin, `/api/attachments/${row.id}/content`);
      assert.deepEqual(got.bytes, bytes);
      const range = await download(api, admin, `/api/attachments/${row.id}/content`, { range: 'bytes=70000-70009' });
      assert.deepEqual(range.bytes, bytes.subarray(70000, 70010));

      // Its files are read from where they were written: the store cannot move, nor go, while it holds them.
      const moved = await admin.fetch('PATCH', `/api/integrations/${row.storageIntegrationId}`, {
        config: { prefix: 'elsewhere/' },
      });
      assert.equal(moved.status, 409, JSON.stringify(moved.body));
      const deleted = await admin.fetch('DELETE', `/api/integrations/${row.storageIntegrationId}`);
      assert.equal(deleted.status, 409);
      const renamed = await admin.fetch('PATCH', `/api/integrations/${row.storageIntegrationId}`, { name: 'Renamed' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    });
  }

  it('refuses a directory on the server as an organisation’s store', async () => {
    const admin = await createTestOrganization({ role: 'admin' });
    const local = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'storage',
      name: 'A directory',
      config: { driver: 'local', root: '/etc' },
    });
    assert.equal(local.status, 422, 'an organisation never picks a directory on the server');
  });

  it('waits out the object store going down mid-pipeline, then completes with no orphan', async () => {
    pipeline = await startPipeline(uniqueTaskQueue('files-s3-down'));
    const admin = await createTestOrganization({ role: 'admin' });
    const { store, prefix } = await connectS3(admin);
    const ticketId = await newTicket(admin);

    // Held at the scan (clamd down) while the store is up; then the store goes down as clamd comes back.
    await stopClamd();
    let id: string;
    try {
      const uploaded = await uploadFiles(api, admin, ticketId, [{ name: 'outage.txt', bytes: Buffer.from('outage') }]);
      assert.equal(uploaded.status, 201);
      id = uploaded.body.data[0].id;
      await eventually(async () => {
        const view = await admin.fetch('GET', `/api/attachments/${id}`);
        assert.match(view.body.waiting?.reason ?? '', /virus scanner/);
      });
      await stopS3();
    } finally {
      await startClamd();
    }
    try {
      await eventually(
        async () => {
          const view = await admin.fetch('GET', `/api/attachments/${id}`);
          assert.match(view.body.waiting?.reason ?? '', /file store is unreachable/);
          assert.equal(view.body.scanStatus, 'pending_scan');
        },
        { timeoutMs: 60_000 },
      );
    } finally {
      await startS3();
    }
    await untilStatus(id, 'clean', 90_000);

    // Every object under the organisation's prefix is claimed by a live file: nothing was left behind.
    const live = await db
      .select({ key: ticketAttachments.storageKey, thumb: ticketAttachments.thumbnailKey })
      .from(ticketAttachments)
      .where(and(eq(ticketAttachments.organizationId, admin.organizationId), isNull(ticketAttachments.deletedAt)));
    const claimed = new Set(live.flatMap((r) => [r.key, ...(r.thumb ? [r.thumb] : [])]));
    const objects: string[] = [];
    for await (const object of store.list('attachments/')) objects.push(object.key);
    assert.deepEqual(objects.sort(), [...claimed].sort(), `objects under ${prefix}`);
  });

  it('ends a file available exactly once when the files worker is killed in the middle of its scan', async () => {
    // The relay and the tickets worker run here; the files worker runs in a child process that the test kills.
    const queue = uniqueTaskQueue('files-kill');
    pipeline = await startPipeline(queue, {}, {}, {}, withoutFilesWorker(integrations));
    const temporal = await testTemporal();
    // A clamd that accepts the stream and never answers: the scan is in flight when the worker dies.
    const silent = await silentServer();
    const first = await filesWorkerProcess(queue, temporal.address, temporal.namespace, silent.port);
    // This API leaves the scan to the pipeline (no scan as the upload streams), so the worker's scan is in flight.
    const scanLater = await startTestApi({ config: (config) => fileSettings.with(config, { scanOnUpload: false }) });
    afterRun(() => scanLater.close());
    const admin = await createTestOrganization({ role: 'admin', api: scanLater });
    const ticketId = await newTicket(admin);
    const uploaded = await uploadFiles(scanLater, admin, ticketId, [
      { name: 'kill.txt', bytes: Buffer.from('survive') },
    ]);
    const id = uploaded.body.data[0].id;
    await eventually(() => (silent.connections() > 0 ? Promise.resolve() : Promise.reject(new Error('no scan yet'))));
    await first.kill();
    silent.close();

    await filesWorkerProcess(queue, temporal.address, temporal.namespace, testFileServices.clamd.port);
    await untilStatus(id, 'clean', 90_000);
    const events = await attachmentEvents(ticketId);
    assert.deepEqual(
      events.map((e) => e.type),
      ['attachment.uploaded', 'attachment.available'],
    );
  });

  it('sweeps objects that no live file claims, and leaves young ones and claimed ones alone', async () => {
    const admin = await createTestOrganization({ role: 'admin' });
    const { store } = await connectS3(admin);
    const { Readable } = await import('node:stream');
    const orphan = `attachments/${admin.organizationId}/00000000-0000-4000-8000-000000000001`;
    await store.put(orphan, Readable.from([Buffer.from('left behind')]));
    const young = await sweepStore(db, store, { graceMs: 60 * 60_000 });
    assert.equal(young.removed, 0, 'an object younger than the grace period may be an upload in progress');
    const swept = await sweepStore(db, store, { graceMs: 0 });
    assert.equal(swept.removed, 1);
    assert.equal(await store.size(orphan), undefined);
  });
});

/** The product's list, with the files module's worker left to a child process (its relay subscriber stays). */
function withoutFilesWorker(list: readonly IntegrationDefinition[]): IntegrationDefinition[] {
  return list.map((definition) =>
    definition.type !== 'storage'
      ? definition
      : {
          ...definition,
          server: async () => {
            const { workers: _workers, ...rest } = await definition.server();
            return rest;
          },
        },
  );
}

function filesWorkerProcess(queue: string, address: string, namespace: string, clamdPort: number) {
  return spawnWorkerProcess({
    script: 'test/support/module-worker-process.ts',
    env: {
      SWITCHBOARD_TEST_MODULE: 'storage',
      CLAMD_PORT: String(clamdPort),
      CLAMD_TIMEOUT_MS: '120000',
      SWITCHBOARD_TEST_TEMPORAL_ADDRESS: address,
      SWITCHBOARD_TEST_TEMPORAL_NAMESPACE: namespace,
      SWITCHBOARD_TEST_QUEUE: queue,
      SWITCHBOARD_TEST_DATABASE_URL: TEST_DATABASE_URL,
    },
    readyLine: 'storage worker running',
  });
}

/** A TCP server that reads whatever it is sent and never answers. */
async function silentServer(): Promise<{ port: number; connections(): number; close(): void }> {
  let count = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
