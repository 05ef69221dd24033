// Attachments end to end: the real API (multipart and tus uploads, downloads, links), the relay and the files worker
// (the `upload/<id>` workflow), a real clamd and the deployment's local store. A file is served only once clamd has
// read it; what clamd flags is deleted and never served; what is stored is ciphertext; every way in is scoped to
// the organisation and the caller's role.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { auditLog, ticketAttachments } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { Jimp } from 'jimp';
import {
  attachmentEvents,
  createTusUpload,
  download,
  EICAR,
  untilStatus,
  uploadFiles,
} from '../activities/files/upload-test-support.ts';
import { fileSettings } from '../packages/integrations/files/settings.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { ensureFileServices, startClamd, stopClamd } from './support/file-services.ts';
import { recordHistory } from './support/histories.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

describe('attachments end to end (local store, real clamd)', function () {
  this.timeout(120_000);
  const { db } = testDatabase();
  let api: TestApi;
  let pipeline: TestPipeline;
  let agent: TestUser;
  let root: string;

  before(async () => {
    await ensureFileServices();
    api = await startTestApi();
    root =
      fileSettings.of(api.deps.config).defaultStore.driver === 'local'
        ? (fileSettings.of(api.deps.config).defaultStore as { root: string }).root
        : '';
    pipeline = await startPipeline(uniqueTaskQueue('files'));
    agent = await createTestOrganization({ role: 'agent' });
  });
  after(async () => {
    await pipeline?.stop();
    await api?.close();
  });

  async function newTicket(user: TestUser = agent): Promise<string> {
    const created = await user.fetch('POST', '/api/tickets', { subject: `files ${Date.now()}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id;
  }

  async function pngOf(width: number, height: number): Promise<Buffer> {
    const image = new Jimp({ width, height, color: 0x3366ccff });
    return image.getBuffer('image/png');
  }

  const objectPath = (key: string) => path.join(root, key);

  it('scans, encrypts and serves a text file and an image, with a thumbnail, and says so on the ticket', async () => {
    const ticketId = await newTicket();
    const text = Buffer.from('Hello from the customer.\nLine two.\n'.repeat(3000));
    const png = await pngOf(1200, 800);
    const uploaded = await uploadFiles(api, agent, ticketId, [
      { name: 'notes.txt', bytes: text, type: 'text/plain' },
      { name: 'screen.png', bytes: png, type: 'image/png' },
    ]);
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    const [textFile, image] = uploaded.body.data;
    assert.equal(textFile.scanStatus, 'pending_scan');
    assert.equal(textFile.fileName, 'notes.txt');
    assert.equal(image.mimeType, 'image/png');

    // Nothing is served before the scan has passed.
    const early = await download(api, agent, `/api/attachments/${textFile.id}/content`);
    assert.ok(early.status === 409 || early.status === 200, String(early.status));

    // Scanned as it streamed in (the API's tee into clamd): the pipeline had no need to read it back.
    const [scannedAtUpload] = await db
      .select({ scannedAt: ticketAttachments.scannedAt })
      .from(ticketAttachments)
      .where(eq(ticketAttachments.id, textFile.id));
    assert.ok(scannedAtUpload?.scannedAt, 'the upload was scanned as it streamed');
    const cleanText = await untilStatus(textFile.id, 'clean');
    await untilStatus(image.id, 'clean');

    // What the store holds is ciphertext: the plaintext appears nowhere in it.
    const stored = readFileSync(objectPath(cleanText.storageKey));
    assert.equal(stored.includes(Buffer.from('Hello from the customer.')), false);
    assert.ok(stored.length > text.length, 'segments carry their tags');

    const got = await download(api, agent, `/api/attachments/${textFile.id}/content`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.bytes, text);
    assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
    assert.match(got.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.match(got.headers.get('content-disposition') ?? '', /^attachment; filename="notes.txt"/);

    const picture = await download(api, agent, `/api/attachments/${image.id}/content`);
    assert.deepEqual(picture.bytes, png);
    assert.match(picture.headers.get('content-disposition') ?? '', /^inline/);
    const thumb = await download(api, agent, `/api/attachments/${image.id}/thumbnail`);
    assert.equal(thumb.status, 200);
    const thumbImage = await Jimp.read(thumb.bytes!);
    assert.equal(Math.max(thumbImage.width, thumbImage.height), 256);
    assert.equal(thumbImage.width, 256, 'landscape stays landscape');

    const events = await attachmentEvents(ticketId);
    assert.deepEqual(
      events.filter((e) => e.payload.attachment.id === textFile.id).map((e) => e.type),
      ['attachment.uploaded', 'attachment.available'],
    );

    // Operators find the pipeline in the Web UI by the ticket.
    const { client } = await testTemporal();
    // The histories of both pipelines are committed fixtures (UPDATE_HISTORY_FIXTURES=1), replayed by
    // test/replay.test.ts on every run.
    // The text file, scanned as it streamed in, took one step (its scan step made it available); the image took
    // three (scan, thumbnail, available).
    for (const [file, fixture, steps] of [
      [textFile, 'upload-scanned', ['scanAttachment']],
      [image, 'upload-image', ['scanAttachment', 'makeThumbnail', 'markAvailable']],
    ] as const) {
      const handle = client.workflow.getHandle(`upload/${file.id}`);
      assert.equal(await handle.result(), 'available');
      const { history } = await recordHistory(handle, fixture);
      const scheduled = (history.events ?? []).flatMap((event) =>
        event.activityTaskScheduledEventAttributes?.activityType?.name
          ? [event.activityTaskScheduledEventAttributes.activityType.name]
          : [],
      );
      assert.deepEqual(scheduled, steps, `${fixture}: the pipeline's steps`);
    }
    await eventually(async () => {
      const found: string[] = [];
      for await (const w of client.workflow.list({ query: `TicketId = "${ticketId}"` })) found.push(w.workflowId);
      assert.ok(found.includes(`upload/${textFile.id}`), found.join(', '));
    });
  });

  it('blocks the EICAR file: deleted from storage, never served, the signature on the ticket', async () => {
    const ticketId = await newTicket();
    const uploaded = await uploadFiles(api, agent, ticketId, [{ name: 'invoice.txt', bytes: EICAR }]);
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    const id = uploaded.body.data[0].id;
    // Found as it streamed in: blocked in the answer itself, the object already gone.
    assert.equal(uploaded.body.data[0].scanStatus, 'infected');
    const row = await untilStatus(id, 'infected');
    assert.match(row.scanSignature ?? '', /eicar/i);
    assert.equal(existsSync(objectPath(row.storageKey)), false, 'the object is gone');
    assert.equal(row.keyEnvelope, null);
    const refused = await download(api, agent, `/api/attachments/${id}/content`);
    assert.equal(refused.status, 409);
    const view = await agent.fetch('GET', `/api/attachments/${id}`);
    assert.equal(view.body.scanStatus, 'infected');
    const blocked = (await attachmentEvents(ticketId)).find((e) => e.type === 'attachment.blocked');
    assert.match(blocked?.payload.signature ?? '', /eicar/i);
  });

  it('blocks the EICAR file in the pipeline too, when the upload could not scan it', async () => {
    const scanLater = await startTestApi({ config: (config) => fileSettings.with(config, { scanOnUpload: false }) });
    try {
      const member = await createTestOrganization({ role: 'agent', api: scanLater });
      const created = await member.fetch('POST', '/api/tickets', { subject: 'eicar later' });
      const uploaded = await uploadFiles(scanLater, member, created.body.id, [{ name: 'later.txt', bytes: EICAR }]);
      assert.equal(uploaded.body.data[0].scanStatus, 'pending_scan');
      const row = await untilStatus(uploaded.body.data[0].id, 'infected');
      assert.match(row.scanSignature ?? '', /eicar/i);
      assert.equal(existsSync(objectPath(row.storageKey)), false, 'the pipeline deleted the object');
      const types = (await attachmentEvents(created.body.id)).map((e) => e.type);
      assert.deepEqual(types, ['attachment.uploaded', 'attachment.blocked']);
    } finally {
      await scanLater.close();
    }
  });

  it('serves byte ranges, and refuses an unsatisfiable one', async () => {
    const ticketId = await newTicket();
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `${i % 10}`).join(''));
    const uploaded = await uploadFiles(api, agent, ticketId, [{ name: 'digits.txt', bytes }]);
    const id = uploaded.body.data[0].id;
    await untilStatus(id, 'clean');
    const across = await download(api, agent, `/api/attachments/${id}/content`, { range: 'bytes=65000-140000' });
    assert.equal(across.status, 206);
    assert.equal(across.headers.get('content-range'), `bytes 65000-140000/${bytes.length}`);
    assert.deepEqual(across.bytes, bytes.subarray(65000, 140001));
    const tail = await download(api, agent, `/api/attachments/${id}/content`, { range: 'bytes=-10' });
    assert.deepEqual(tail.bytes, bytes.subarray(bytes.length - 10));
    const beyond = await download(api, agent, `/api/attachments/${id}/content`, { range: 'bytes=999999-' });
    assert.equal(beyond.status, 416);
  });

  it('fails a download cleanly when a stored byte was flipped', async () => {
    const ticketId = await newTicket();
    const uploaded = await uploadFiles(api, agent, ticketId, [{ name: 'small.txt', bytes: Buffer.from('tamper me') }]);
    const row = await untilStatus(uploaded.body.data[0].id, 'clean');
    const file = objectPath(row.storageKey);
    const stored = readFileSync(file);
    stored[3]! ^= 0x01;
    writeFileSync(file, stored);
    const got = await download(api, agent, `/api/attachments/${row.id}/content`);
    assert.equal(got.status, 500);
    assert.doesNotMatch(got.bytes?.toString() ?? '', /tamper me/);
  });

  it('refuses spoofed types, executables, bombs and oversize files, keeping nothing', async () => {
    const ticketId = await newTicket();
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x20)]);
    const spoofed = await uploadFiles(api, agent, ticketId, [{ name: 'photo.jpg', bytes: pdf, type: 'image/jpeg' }]);
    assert.equal(spoofed.status, 415);
    assert.match(spoofed.body.error.message, /photo\.jpg/);

    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0'), Buffer.alloc(3000)]);
    exe.writeUInt32LE(64, 0x3c);
    const program = await uploadFiles(api, agent, ticketId, [{ name: 'report.pdf', bytes: exe }]);
    assert.equal(program.status, 415);

    // A PNG header declaring 100,000 × 100,000 pixels: refused from its header, never decoded.
    const bomb = await pngOf(10, 10);
    bomb.writeUInt32BE(100_000, 16);
    bomb.writeUInt32BE(100_000, 20);
    const bombed = await uploadFiles(api, agent, ticketId, [{ name: 'bomb.png', bytes: bomb }]);
    assert.equal(bombed.status, 422, JSON.stringify(bombed.body));

    // All or nothing: a good file next to a refused one is not kept either.
    const mixed = await uploadFiles(api, agent, ticketId, [
      { name: 'fine.txt', bytes: Buffer.from('fine') },
      { name: 'photo.jpg', bytes: pdf },
    ]);
    assert.equal(mixed.status, 415);

    const admin = await addTestMember(agent.organizationId, { role: 'admin' });
    const limited = await admin.fetch('PUT', '/api/files/limits', { maxFileBytes: 100_000 });
    assert.equal(limited.status, 200);
    try {
      const big = Buffer.alloc(3_000_000, 'a');
      const started = Date.now();
      const oversize = await uploadFiles(api, agent, ticketId, [{ name: 'big.txt', bytes: big }]);
      assert.equal(oversize.status, 413);
      assert.match(oversize.body.error.message, /too large \(more than 0\.1 MB; the limit is 0\.1 MB\)/);
      assert.ok(Date.now() - started < 5_000);
    } finally {
      await admin.fetch('PUT', '/api/files/limits', { maxFileBytes: null });
    }

    const rows = await db.select().from(ticketAttachments).where(eq(ticketAttachments.supportRequestId, ticketId));
    assert.equal(rows.length, 0);
  });

  it('keeps a malicious name for display only, sanitised', async () => {
    const ticketId = await newTicket();
    const uploaded = await uploadFiles(api, agent, ticketId, [
      { name: '../../etc/\u202Epass\u200Bwd.txt', bytes: Buffer.from('root:x:0:0') },
    ]);
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    const name: string = uploaded.body.data[0].fileName;
    assert.equal(name, 'passwd.txt');
    // A name that would run as a program is refused however it is dressed up.
    const program = await uploadFiles(api, agent, ticketId, [
      { name: 'invoice\u202Etxt.exe', bytes: Buffer.from('plain text really') },
    ]);
    assert.equal(program.status, 415);
    assert.match(program.body.error.message, /Windows program/);
  });

  it('scopes every way in: another organisation gets 404, a viewer may read but not upload or delete', async () => {
    const ticketId = await newTicket();
    const uploaded = await uploadFiles(api, agent, ticketId, [{ name: 'mine.txt', bytes: Buffer.from('ours') }]);
    const id = uploaded.body.data[0].id;
    await untilStatus(id, 'clean');

    const stranger = await createTestOrganization({ role: 'admin' });
    for (const p of [`/api/attachments/${id}`, `/api/attachments/${id}/content`, `/api/attachments/${id}/audit`])
      assert.equal((await stranger.fetch('GET', p)).status, 404, p);
    assert.equal((await stranger.fetch('DELETE', `/api/attachments/${id}`)).status, 404);
    assert.equal((await stranger.fetch('POST', `/api/attachments/${id}/links`, {})).status, 404);
    assert.equal(
      (await uploadFiles(api, stranger, ticketId, [{ name: 'x.txt', bytes: Buffer.from('x') }])).status,
      404,
    );

    const viewer = await addTestMember(agent.organizationId, { role: 'viewer' });
    assert.equal((await download(api, viewer, `/api/attachments/${id}/content`)).status, 200);
    assert.equal((await viewer.fetch('DELETE', `/api/attachments/${id}`)).status, 403);
    assert.equal((await uploadFiles(api, viewer, ticketId, [{ name: 'v.txt', bytes: Buffer.from('v') }])).status, 403);
  });

  it('serves a signed link without a session, and refuses a tampered or misused one', async () => {
    const ticketId = await newTicket();
    const uploaded = await uploadFiles(api, agent, ticketId, [{ name: 'shared.txt', bytes: Buffer.from('shared') }]);
    const id = uploaded.body.data[0].id;
    await untilStatus(id, 'clean');
    const link = await agent.fetch('POST', `/api/attachments/${id}/links`, { recipient: 'customer-42' });
    assert.equal(link.status, 201);
    const url = new URL(link.body.url);
    const fetched = await fetch(url);
    assert.equal(fetched.status, 200);
    assert.equal(await fetched.text(), 'shared');

    const tampered = new URL(url);
    tampered.searchParams.set('rcpt', 'someone-else');
    assert.equal((await fetch(tampered)).status, 404);
    const otherPurpose = new URL(url.toString().replace('/download?', '/thumbnail?'));
    assert.equal((await fetch(otherPurpose)).status, 404);
    const later = new URL(url);
    later.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    assert.equal((await fetch(later)).status, 404);

    const audit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, id), eq(auditLog.action, 'attachment.downloaded')));
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actorType, 'customer');
    assert.equal(audit[0]!.actorId, 'customer-42');
    assert.equal((audit[0]!.metadata as { via: string }).via, 'link');
  });

  it('records upload, scan, download and delete in the attachment’s audit, and deletes from storage', async () => {
    const ticketId = await newTicket();
    const uploaded = await uploadFiles(api, agent, ticketId, [{ name: 'a.txt', bytes: Buffer.from('audit me') }]);
    const id = uploaded.body.data[0].id;
    const row = await untilStatus(id, 'clean');
    await download(api, agent, `/api/attachments/${id}/content`, { 'user-agent': 'audit-test/1.0' });
    assert.equal((await agent.fetch('DELETE', `/api/attachments/${id}`)).status, 204);
    assert.equal(existsSync(objectPath(row.storageKey)), false);
    assert.equal((await agent.fetch('GET', `/api/attachments/${id}`)).status, 404);
    const listed = await agent.fetch('GET', `/api/tickets/${ticketId}/attachments`);
    assert.deepEqual(listed.body.data, []);

    const admin = await addTestMember(agent.organizationId, { role: 'admin' });
    const audit = await admin.fetch('GET', `/api/attachments/${id}/audit`);
    assert.equal(audit.status, 200);
    const actions = audit.body.data.map((e: { action: string }) => e.action);
    assert.deepEqual(actions, [
      'attachment.deleted',
      'attachment.downloaded',
      'attachment.scanned',
      'attachment.uploaded',
    ]);
    const downloaded = audit.body.data[1];
    assert.equal(downloaded.actor.id, agent.userId);
    assert.equal(downloaded.metadata.userAgent, 'audit-test/1.0');
    assert.ok(downloaded.metadata.ip);
    assert.equal((await agent.fetch('GET', `/api/attachments/${id}/audit`)).status, 403);
  });

  it('resumes an interrupted upload (tus) and puts the file through the same pipeline', async () => {
    const ticketId = await newTicket();
    const bytes = Buffer.from('resumable '.repeat(50_000));
    const { location, headers } = await createTusUpload(api, agent, ticketId, {
      name: 'big notes.txt',
      size: bytes.length,
      type: 'text/plain',
    });

    const half = 200_000;
    const first = await fetch(location, {
      method: 'PATCH',
      headers: { ...headers, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: bytes.subarray(0, half),
    });
    assert.equal(first.status, 204);

    // The connection dropped; the client asks where to go on from.
    const head = await fetch(location, { method: 'HEAD', headers });
    assert.equal(head.headers.get('upload-offset'), String(half));
    const stranger = await addTestMember(agent.organizationId, { role: 'agent' });
    const peek = await fetch(location, {
      method: 'HEAD',
      headers: { cookie: stranger.cookie, origin: api.baseUrl, 'tus-resumable': '1.0.0' },
    });
    assert.equal(peek.status, 404, 'another member cannot resume it');

    const rest = await fetch(location, {
      method: 'PATCH',
      headers: { ...headers, 'upload-offset': String(half), 'content-type': 'application/offset+octet-stream' },
      body: bytes.subarray(half),
    });
    assert.equal(rest.status, 200);
    const attachment = await rest.json();
    assert.equal(attachment.fileName, 'big notes.txt');
    await untilStatus(attachment.id, 'clean');
    const got = await download(api, agent, `/api/attachments/${attachment.id}/content`);
    assert.deepEqual(got.bytes, bytes);
  });

  it('fails closed while clamd is down: the file waits, says why and until when, then becomes available', async () => {
    await stopClamd();
    let id: string;
    try {
      const ticketId = await newTicket();
      const uploaded = await uploadFiles(api, agent, ticketId, [{ name: 'wait.txt', bytes: Buffer.from('patience') }]);
      id = uploaded.body.data[0].id;
      const waiting = await eventually(
        async () => {
          const view = await agent.fetch('GET', `/api/attachments/${id}`);
          assert.ok(view.body.waiting, 'the file says it waits');
          return view.body;
        },
        { timeoutMs: 20_000 },
      );
      assert.match(waiting.waiting.reason, /virus scanner is unreachable/);
      assert.ok(Date.parse(waiting.waiting.until) > Date.now() - 1_000);
      assert.equal(waiting.scanStatus, 'pending_scan');
      assert.equal((await download(api, agent, `/api/attachments/${id}/content`)).status, 409);
    } finally {
      await startClamd();
    }
    const row = await untilStatus(id, 'clean', 90_000);
    assert.equal(row.waitingReason, null);
  });
});
