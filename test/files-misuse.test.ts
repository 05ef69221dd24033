// Attachments under misuse and partial failure (issue 10; each found by an independent review, and failing before
// its fix): uploads finished twice or cut off, downloads abandoned, limits past the deployment's, racing deletes,
// links that must name their maker, clamd refusals. No clamd is needed (the upload's own scan is off); the local store is the default.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { auditLog, ticketAttachments } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { Jimp } from 'jimp';
import { createFilePipelineActivities } from '../activities/files/pipeline.ts';
import { filesRuntime } from '../activities/files/runtime.ts';
import { attachmentEvents, createTusUpload, uploadFiles } from '../activities/files/upload-test-support.ts';
import { fileSettings } from '../packages/integrations/files/settings.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { startClamd, stopClamd, testFileServices } from './support/file-services.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Open descriptors of this process whose target is under `dir`. */
function openFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) found.push(target);
    } catch {
      // closed between readdir and readlink
    }
  }
  return found;
}

/** The pipeline's activities over an API's own stores and this run's clamd, to run one step by hand. */
function pipelineActivities(testApi: TestApi) {
  const runtime = filesRuntime(testApi.deps);
  return createFilePipelineActivities({
    db: testApi.deps.db,
    credentialKeys: testApi.deps.config.credentialKeys,
    stores: runtime.stores,
    clamd: { ...testFileServices.clamd, timeoutMs: 10_000 },
    maxImagePixels: runtime.settings.maxImagePixels,
  });
}

describe('attachments under misuse and partial failure', function () {
  this.timeout(60_000);
  const { db } = testDatabase();
  let api: TestApi;
  let agent: TestUser;
  let root: string;

  before(async () => {
    api = await startTestApi({ config: (config) => fileSettings.with(config, { scanOnUpload: false }) });
    agent = await createTestOrganization({ role: 'agent', api });
    root = (fileSettings.of(api.deps.config).defaultStore as { root: string }).root;
  });
  after(async () => {
    await api?.close();
  });

  async function newTicket(): Promise<string> {
    const created = await agent.fetch('POST', '/api/tickets', { subject: `review ${Date.now()}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id;
  }

  it('tus: an upload finished twice (a retried final PATCH) makes one attachment, not two', async () => {
    const ticketId = await newTicket();
    // Large enough that the intake (encrypt, store, commit) takes a moment after the last byte is written.
    const bytes = Buffer.from('resumable text line\n'.repeat(600_000));
    const { location, headers } = await createTusUpload(api, agent, ticketId, {
      name: 'twice.txt',
      size: bytes.length,
      type: 'text/plain',
    });
    const patch = (offset: number, body: Uint8Array) =>
      fetch(location, {
        method: 'PATCH',
        headers: { ...headers, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
        body: new Uint8Array(body),
      });

    const last = patch(0, bytes);
    // The client's answer is slow to come (or its connection dropped): it sends the last PATCH again, empty, at the
    // end offset. @tus/server releases its lock before onUploadFinish, so this one runs the finish hook as well.
    let second: Response | undefined;
    for (let i = 0; i < 200 && !second; i++) {
      const head = await fetch(location, { method: 'HEAD', headers });
      if (head.status !== 200) break;
      if (head.headers.get('upload-offset') === String(bytes.length))
        second = await patch(bytes.length, Buffer.alloc(0));
      else await sleep(5);
    }
    const first = await last;
    assert.equal(first.status, 200);
    await first.text();
    await second?.text();

    const rows = await db.select().from(ticketAttachments).where(eq(ticketAttachments.supportRequestId, ticketId));
    assert.equal(rows.length, 1, `one upload became ${rows.length} attachments (second PATCH: ${second?.status})`);
  });

  it('a download the client abandons releases the stored object (file handle, socket)', async () => {
    const ticketId = await newTicket();
    const bytes = Buffer.alloc(8 * 1024 * 1024, 'a');
    const uploaded = await uploadFiles(api, agent, ticketId, [{ name: 'big.txt', bytes, type: 'text/plain' }]);
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    const id: string = uploaded.body.data[0].id;
    // No pipeline in this test: mark it scanned so it is served.
    await db.update(ticketAttachments).set({ scanStatus: 'clean' }).where(eq(ticketAttachments.id, id));
    const objectDir = path.join(root, 'attachments', agent.organizationId);
    const before = openFilesUnder(objectDir).length;

    for (let i = 0; i < 3; i++) {
      // A browser seeking in a video: it reads a little and drops the request.
      await new Promise<void>((resolve, reject) => {
        const url = new URL(`/api/attachments/${id}/content`, api.baseUrl);
        const req = request(url, { headers: { cookie: agent.cookie } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (error) => (req.destroyed ? resolve() : reject(error)));
        req.end();
      });
    }
    await sleep(1_500);
    const leaked = openFilesUnder(objectDir);
    assert.equal(leaked.length, before, `descriptors still open on the object: ${leaked.join(', ')}`);
  });

  it('a client that disconnects mid-upload leaves no partial object and no open file behind', async () => {
    const ticketId = await newTicket();
    const partialDir = path.join(root, '.partial');
    const listPartial = () => {
      try {
        return readdirSync(partialDir);
      } catch {
        return [];
      }
    };
    const before = new Set(listPartial());
    const boundary = 'reviewboundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n` +
        'Content-Type: text/plain\r\n\r\n',
    );
    await new Promise<void>((resolve) => {
      const url = new URL(`/api/tickets/${ticketId}/attachments`, api.baseUrl);
      const req = request(url, {
        method: 'POST',
        headers: {
          cookie: agent.cookie,
          origin: api.baseUrl,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(head.length + 4 * 1024 * 1024 + 100),
        },
      });
      req.on('error', () => resolve());
      req.write(head);
      req.write(Buffer.alloc(1024 * 1024, 'b'));
      // Half-way through the file, the connection drops.
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 500);
    });
    await sleep(2_000);
    const left = listPartial().filter((name) => !before.has(name));
    const open = openFilesUnder(partialDir);
    assert.deepEqual(
      { left, open },
      { left: [], open: [] },
      'the cut upload left a partial object (never swept: .partial is skipped) and an open file',
    );
  });

  it('an admin cannot raise the organisation’s limits past the deployment’s', async () => {
    const admin = await createTestOrganization({ role: 'admin', api });
    const raised = await admin.fetch('PUT', '/api/files/limits', {
      maxFileBytes: 2 ** 40,
      ticketQuotaBytes: 2 ** 50,
      orgQuotaBytes: 2 ** 50,
    });
    const deployment = fileSettings.of(api.deps.config).limits;
    const now = await admin.fetch('GET', '/api/files/limits');
    assert.ok(
      now.body.maxFileBytes <= deployment.maxFileBytes && now.body.orgQuotaBytes <= deployment.orgQuotaBytes,
      `answered ${raised.status}; the organisation now has ${JSON.stringify(now.body)}, the deployment ${JSON.stringify(deployment)}`,
    );
  });

  async function cleanFile(name: string, bytes: Buffer): Promise<string> {
    const ticketId = await newTicket();
    const uploaded = await uploadFiles(api, agent, ticketId, [{ name, bytes, type: 'text/plain' }]);
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    const id: string = uploaded.body.data[0].id;
    // No pipeline in these tests: mark it scanned so it is served.
    await db.update(ticketAttachments).set({ scanStatus: 'clean' }).where(eq(ticketAttachments.id, id));
    return id;
  }

  it('two deletes of one attachment at once record one deletion, not two', async () => {
    const id = await cleanFile('gone.txt', Buffer.from('delete me twice'));
    const [a, b] = await Promise.all([
      agent.fetch('DELETE', `/api/attachments/${id}`),
      agent.fetch('DELETE', `/api/attachments/${id}`),
    ]);
    const [row] = await db.select().from(ticketAttachments).where(eq(ticketAttachments.id, id));
    const events = (await attachmentEvents(row!.supportRequestId)).filter((e) => e.type === 'attachment.deleted');
    assert.equal(events.length, 1, `answers ${a.status} and ${b.status}; ${events.length} attachment.deleted events`);
  });

  it('a signed link’s download names the member who made the link, not only the recipient they typed', async () => {
    const id = await cleanFile('link.txt', Buffer.from('for the requester'));
    // Another agent than the uploader makes the link, for a recipient of their choosing.
    const linker = await addTestMember(agent.organizationId, { role: 'agent', api });
    const made = await linker.fetch('POST', `/api/attachments/${id}/links`, { recipient: 'someone-else-entirely' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const got = await fetch(made.body.url);
    assert.equal(got.status, 200);
    await got.arrayBuffer();
    const admin = await addTestMember(agent.organizationId, { role: 'admin', api });
    const audit = await admin.fetch('GET', `/api/attachments/${id}/audit`);
    const trail = JSON.stringify(audit.body.data);
    assert.ok(
      trail.includes(linker.userId),
      `the agent who made the link appears nowhere in the trail of the download it gave: ${trail}`,
    );
  });

  it('answers a multipart upload whose first file fails in storage while the next one streams', async () => {
    // A new organisation whose directory in the local store cannot be made: the put of its first file fails after
    // the file's last byte was read (the rename into attachments/<org>/), while the second file is streaming.
    const other = await createTestOrganization({ role: 'agent', api });
    const created = await other.fetch('POST', '/api/tickets', { subject: 'store fails' });
    mkdirSync(path.join(root, 'attachments'), { recursive: true });
    writeFileSync(path.join(root, 'attachments', other.organizationId), 'not a directory');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 15_000);
    try {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('first, small')], { type: 'text/plain' }), 'a.txt');
      form.append(
        'file',
        new Blob([new Uint8Array(Buffer.alloc(6 * 1024 * 1024, 'f'))], { type: 'text/plain' }),
        'b.txt',
      );
      const answer = await fetch(`${api.baseUrl}/api/tickets/${created.body.id}/attachments`, {
        method: 'POST',
        headers: { cookie: other.cookie, origin: api.baseUrl },
        body: form,
        signal: controller.signal,
      }).then(
        (response) => response.status,
        (error: Error) => error.name,
      );
      assert.equal(typeof answer, 'number', `no answer within 15 s (${answer})`);
    } finally {
      clearTimeout(timer);
      rmSync(path.join(root, 'attachments', other.organizationId), { force: true });
    }
  });

  it('tus: a finish that fails because the store is unreachable keeps the parts, so the client can finish later', async () => {
    const admin = await createTestOrganization({ role: 'admin', api });
    // The organisation's own bucket, down for the moment (nothing listens on port 1).
    const connected = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'storage',
      name: 'Our bucket (down)',
      config: { driver: 's3', endpoint: 'http://127.0.0.1:1', bucket: 'down-bucket', pathStyle: true },
      credentials: { accessKey: 'k', secretKey: 'secret-secret' },
    });
    assert.equal(connected.status, 201, JSON.stringify(connected.body));
    const ticket = await admin.fetch('POST', '/api/tickets', { subject: 'store down' });
    const bytes = Buffer.from('a resumable file that took an hour to send\n'.repeat(1000));
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const headers = { cookie: admin.cookie, origin: api.baseUrl, 'tus-resumable': '1.0.0' };
    const created = await fetch(`${api.baseUrl}/api/uploads`, {
      method: 'POST',
      headers: {
        ...headers,
        'upload-length': String(bytes.length),
        'upload-metadata': `ticketId ${b64(ticket.body.id)},filename ${b64('long.txt')}`,
      },
    });
    assert.equal(created.status, 201, await created.text());
    const location = new URL(created.headers.get('location')!, api.baseUrl);
    const last = await fetch(location, {
      method: 'PATCH',
      headers: { ...headers, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: new Uint8Array(bytes),
    });
    const answer = `${last.status} ${await last.text()}`;
    const head = await fetch(location, { method: 'HEAD', headers });
    assert.equal(
      head.status,
      200,
      `the final PATCH answered ${answer}; the staged file is gone (HEAD ${head.status}): the client must send it all again`,
    );
  });

  describe('the upload’s own scan, with a real clamd', () => {
    before(async function () {
      this.timeout(600_000);
      await startClamd();
    });

    it('lets go of clamd at once when an upload is refused part-way (413), not after clamd’s read timeout', async () => {
      const scanning = await startTestApi({
        config: (config) => fileSettings.with(config, { scanOnUpload: true, clamd: testFileServices.clamd }),
      });
      try {
        const admin = await createTestOrganization({ role: 'admin', api: scanning });
        const limited = await admin.fetch('PUT', '/api/files/limits', { maxFileBytes: 1024 * 1024 });
        assert.equal(limited.status, 200);
        const created = await admin.fetch('POST', '/api/tickets', { subject: 'oversize' });
        for (let i = 0; i < 3; i++) {
          const refused = await uploadFiles(scanning, admin, created.body.id, [
            { name: `big-${i}.txt`, bytes: Buffer.alloc(3 * 1024 * 1024, 'e'), type: 'text/plain' },
          ]);
          assert.equal(refused.status, 413);
        }
        await sleep(3_000);
        const { stdout } = await run('ss', [
          '-Htn',
          'state',
          'established',
          `( dport = :${testFileServices.clamd.port} )`,
        ]);
        const held = stdout.split('\n').filter((line) => line.trim() !== '').length;
        assert.equal(
          held,
          0,
          `${held} connections to clamd still open 3 s after the refused uploads (each holds a clamd thread)`,
        );
      } finally {
        await scanning.close();
      }
    });
    it('makes a file scanned as it was uploaded available in the scan step only when the workflow asks (patch upload-scan-settles)', async () => {
      const scanning = await startTestApi({
        config: (config) => fileSettings.with(config, { scanOnUpload: true, clamd: testFileServices.clamd }),
      });
      try {
        const member = await createTestOrganization({ role: 'agent', api: scanning });
        const created = await member.fetch('POST', '/api/tickets', { subject: 'scanned at upload' });
        const ticketId: string = created.body.id;
        const picture = await new Jimp({ width: 64, height: 48, color: 0x3366ccff }).getBuffer('image/png');
        const uploaded = await uploadFiles(scanning, member, ticketId, [
          { name: 'notes.txt', bytes: Buffer.from('scanned as it streamed\n'.repeat(100)), type: 'text/plain' },
          { name: 'picture.png', bytes: picture, type: 'image/png' },
        ]);
        assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
        const [text, image] = uploaded.body.data as Array<{ id: string }>;
        const activities = pipelineActivities(scanning);
        const inputOf = (id: string, raster: boolean) => ({
          attachmentId: id,
          organizationId: member.organizationId,
          ticketId,
          raster,
        });
        const input = inputOf(text!.id, false);
        const status = async (id: string) =>
          (await db.select().from(ticketAttachments).where(eq(ticketAttachments.id, id)))[0]?.scanStatus;
        const available = async () =>
          (await attachmentEvents(ticketId)).filter((e) => e.type === 'attachment.available').length;
        const scannedAudits = async () =>
          (
            await db
              .select()
              .from(auditLog)
              .where(and(eq(auditLog.entityId, text!.id), eq(auditLog.action, 'attachment.scanned')))
          ).length;
        const scan = (settle: boolean, of = input) =>
          new MockActivityEnvironment().run(activities.scanAttachment, { ...of, settle });

        // A run of older workflow code does not ask: it gets the verdict alone and schedules markAvailable itself.
        assert.deepEqual(await scan(false), { verdict: 'clean' });
        assert.equal(await status(text!.id), 'pending_scan');
        // An image is not settled even when asked: its thumbnail comes first.
        assert.deepEqual(await scan(true, inputOf(image!.id, true)), { verdict: 'clean' });
        assert.equal(await status(image!.id), 'pending_scan');
        // A run that asks gets the file made available, once.
        assert.deepEqual(await scan(true), { verdict: 'clean', settled: 'available' });
        assert.equal(await status(text!.id), 'clean');
        assert.equal(await available(), 1);
        // Retried after that (its result was lost): the verdict alone, and markAvailable finds the file available.
        assert.deepEqual(await scan(true), { verdict: 'clean' });
        assert.equal(await new MockActivityEnvironment().run(activities.markAvailable, input), 'available');
        assert.equal(await available(), 1, 'attachment.available is emitted once');
        assert.equal(await scannedAudits(), 1, 'the clean scan is audited once');
      } finally {
        await scanning.close();
      }
    });
  });

  describe('a file clamd refuses to scan (larger than its StreamMaxLength)', () => {
    // This run's own clamd, with a 1 MB StreamMaxLength standing in for the 30 MB default against an organisation
    // whose maxFileBytes is larger (PUT /api/files/limits accepts up to 1 TiB).
    // The shared test clamd is restarted with the small limit, and again with the usual one afterwards: the files
    // that follow scan with it.
    const usual = process.env.CLAMD_STREAM_MAX_LENGTH;
    before(async function () {
      this.timeout(600_000);
      await stopClamd();
      process.env.CLAMD_STREAM_MAX_LENGTH = '1M';
      await startClamd();
    });
    after(async function () {
      this.timeout(600_000);
      await stopClamd();
      if (usual === undefined) delete process.env.CLAMD_STREAM_MAX_LENGTH;
      else process.env.CLAMD_STREAM_MAX_LENGTH = usual;
      await startClamd();
    });

    it('fails the file for good (non-retryable) instead of retrying the scan without end', async () => {
      const ticketId = await newTicket();
      const runtime = filesRuntime(api.deps);
      const scope = {
        organizationId: agent.organizationId,
        userId: agent.userId,
        actor: { type: 'user' as const, id: agent.userId },
      };
      const view = await runtime.intake.accept(scope, ticketId, 'api', {
        stream: Readable.from([Buffer.alloc(2 * 1024 * 1024, 'd')]),
        name: 'big.txt',
      });
      const activities = pipelineActivities(api);
      const input = { attachmentId: view.id, organizationId: agent.organizationId, ticketId, raster: false };
      const failure = await new MockActivityEnvironment({ attempt: 7 }).run(activities.scanAttachment, input).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(failure, 'clamd refused the stream');
      assert.ok(
        failure instanceof ApplicationFailure && failure.nonRetryable,
        `the activity failed with a retryable ${(failure as Error).name} (${(failure as Error).message}): the ` +
          'workflow (no maximumAttempts) scans it again every minute, for ever, and the file stays pending_scan',
      );
    });
  });
});
