// Attachments in a real browser against the real API, the real pipeline (relay, the upload workflow on a Temporal
// worker) and a real clamd: an agent attaches files through FileUploadZone (the picker, a drop, a paste, and a large
// file through the resumable endpoint), watches each upload's progress and then its scan, opens the image in the
// lightbox, downloads a file and gets its bytes back, and sees the EICAR file blocked with its signature.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Jimp } from 'jimp';
import type { CDPSession, Locator, Page } from 'playwright-core';
import { EICAR } from '../../activities/files/upload-test-support.ts';
import { RESUMABLE_FROM_BYTES } from '../../packages/dashboard/src/uploads.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from '../support/api.ts';
import { ensureFileServices, startClamd, stopClamd } from '../support/file-services.ts';
import { startPipeline, type TestPipeline, uniqueTaskQueue } from '../support/temporal.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');

/** The whole page, or (for a modal) what is on screen: a full-page capture would show the backdrop cut short. */
async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `attachments-${name}.png`), fullPage });
}

async function signIn(page: Page, api: TestApi, user: TestUser, next: string): Promise<void> {
  await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A picture with something in it (a diagonal gradient), so the thumbnail is visibly the image. */
async function picture(width: number, height: number): Promise<Buffer> {
  const image = new Jimp({ width, height, color: 0xffffffff });
  image.scan(0, 0, width, height, (x, y, idx) => {
    image.bitmap.data[idx] = Math.round((x / width) * 255);
    image.bitmap.data[idx + 1] = Math.round((y / height) * 200);
    image.bitmap.data[idx + 2] = 180;
    image.bitmap.data[idx + 3] = 255;
  });
  return image.getBuffer('image/png');
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('attachments (Chromium against the real API, pipeline and clamd)', function () {
  this.timeout(90_000);
  let api: TestApi;
  let pipeline: TestPipeline;
  let agent: TestUser;
  let browser: Browser;
  let page: Page;
  let ticketUrl = '';
  const pageErrors: string[] = [];
  let cdp: CDPSession | undefined;

  const gallery = () => page.getByRole('list', { name: 'Attachments', exact: true });
  const uploads = () => page.getByRole('list', { name: 'Uploads', exact: true });
  const zone = () => page.getByTestId('file-upload-zone');
  const galleryItem = (name: string) => gallery().getByRole('listitem', { name, exact: true });
  const uploadRow = (name: string) => uploads().getByRole('listitem', { name, exact: true });
  const picker = () => page.getByLabel('Choose files to attach');

  /** Chromium's own throttle on what the page sends, so a small file's progress can be seen. */
  async function throttleUploads(bytesPerSecond: number | null, offline = false): Promise<void> {
    cdp ??= await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: bytesPerSecond ?? -1,
    });
  }

  /** Reads a clean file back through the page (its session), as bytes' hash and length. */
  async function fetchInPage(name: string): Promise<{ sha256: string; length: number }> {
    const href = await galleryItem(name)
      .getByRole('link', { name: `Download ${name}` })
      .getAttribute('href');
    assert.ok(href);
    return page.evaluate(async (url) => {
      const bytes = await (await fetch(url)).arrayBuffer();
      const digest = await crypto.subtle.digest('SHA-256', bytes);
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
      return { sha256: hex, length: bytes.byteLength };
    }, href);
  }

  async function badgeText(item: Locator): Promise<string> {
    return ((await item.locator('.scan-badge').textContent()) ?? '').trim();
  }

  before(async function () {
    this.timeout(300_000);
    browser = await launchChromium();
    const dashboardDir = await buildDashboard();
    await ensureFileServices();
    api = await startTestApi({ dashboardDir });
    pipeline = await startPipeline(uniqueTaskQueue('files-browser'));
    agent = await createTestOrganization({ role: 'agent', api, name: 'Acme Support', userName: 'Alan Agent' });
    const ticket = await agent.fetch('POST', '/api/tickets', { subject: 'Screenshots of the broken invoice' });
    assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
    ticketUrl = `/tickets/${ticket.body.id}`;

    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await signIn(page, api, agent, ticketUrl);
    await page.getByRole('heading', { level: 1, name: /Screenshots of the broken invoice/ }).waitFor();
  });

  afterEach(() => {
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
  });

  after(async () => {
    await browser?.close();
    await pipeline?.stop();
    await api?.close();
  });

  it('shows the size limit beside the zone, and no files yet', async () => {
    await zone().getByText('Up to 25 MB per file.').waitFor();
    await page.getByText('No files attached.').waitFor();
  });

  it('uploads an image and a text file from the picker, each with its own progress, then shows the thumbnail', async () => {
    const png = await picture(1600, 1000);
    const text = Buffer.from('Invoice 2026-117\nAmount due: 1,250.00 EUR\n'.repeat(12_000));
    // A few seconds at this rate, shared by the two: long enough to see each file's bar move.
    await throttleUploads(128 * 1024);
    await picker().setInputFiles([
      { name: 'screen.png', mimeType: 'image/png', buffer: png },
      { name: 'invoice-notes.txt', mimeType: 'text/plain', buffer: text },
    ]);
    // Both files at once, each in its own request with its own bar, the text file part of the way.
    const both = await page.waitForFunction(() => {
      const bars = [...document.querySelectorAll<HTMLProgressElement>('progress')];
      const text = bars.find((bar) => bar.getAttribute('aria-label') === 'Uploading invoice-notes.txt');
      return bars.length === 2 && text && text.value > 0 && text.value < text.max
        ? bars.map((bar) => bar.getAttribute('aria-label'))
        : null;
    });
    assert.deepEqual((await both.jsonValue())?.sort(), ['Uploading invoice-notes.txt', 'Uploading screen.png']);
    await screenshot(page, 'progress');
    await throttleUploads(null);

    // Uploaded: the gallery shows both, and each becomes clean once clamd has read it.
    await galleryItem('screen.png').locator('.scan-clean').waitFor({ timeout: 30_000 });
    await galleryItem('invoice-notes.txt').locator('.scan-clean').waitFor({ timeout: 30_000 });
    assert.equal(await uploads().getByRole('progressbar').count(), 0);
    await uploadRow('screen.png').getByText('clean').waitFor();

    const thumbnail = galleryItem('screen.png').getByRole('img', { name: 'screen.png' });
    await thumbnail.waitFor();
    await page.waitForFunction(
      (el) => el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0,
      await thumbnail.elementHandle(),
    );
    const size = await thumbnail.evaluate((el: HTMLImageElement) => [el.naturalWidth, el.naturalHeight]);
    assert.deepEqual(size, [256, 160], 'the 256 px thumbnail, landscape kept');
    await galleryItem('invoice-notes.txt').getByRole('img', { name: 'TXT file' }).waitFor();
    await page.getByRole('list', { name: 'Timeline' }).getByText('“screen.png” passed the virus scan').waitFor();
    await screenshot(page, 'gallery');
  });

  it('opens the image in a lightbox at full size', async () => {
    await galleryItem('screen.png').getByRole('button', { name: 'View screen.png' }).click();
    const dialog = page.getByRole('dialog', { name: 'screen.png' });
    const full = dialog.getByRole('img', { name: 'screen.png' });
    await full.waitFor();
    await page.waitForFunction(
      (el) => el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0,
      await full.elementHandle(),
    );
    assert.equal(await full.evaluate((el: HTMLImageElement) => el.naturalWidth), 1600);
    await screenshot(page, 'lightbox', false);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('downloads the text file with the same bytes that were uploaded', async () => {
    const text = Buffer.from('Invoice 2026-117\nAmount due: 1,250.00 EUR\n'.repeat(12_000));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      galleryItem('invoice-notes.txt').getByRole('link', { name: 'Download invoice-notes.txt' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'invoice-notes.txt');
    const saved = await readFile((await download.path())!);
    assert.deepEqual(saved, text);
  });

  it('takes files dropped on the zone and pasted into the page', async () => {
    const dropped = 'Dropped from the file manager.\n';
    const dataTransfer = await page.evaluateHandle((body) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([body], 'dropped.txt', { type: 'text/plain' }));
      return transfer;
    }, dropped);
    await zone().dispatchEvent('dragenter', { dataTransfer });
    await zone().dispatchEvent('dragover', { dataTransfer });
    await zone().dispatchEvent('drop', { dataTransfer });
    await galleryItem('dropped.txt').locator('.scan-clean').waitFor({ timeout: 30_000 });
    assert.deepEqual(await fetchInPage('dropped.txt'), {
      sha256: sha256(Buffer.from(dropped)),
      length: Buffer.byteLength(dropped),
    });

    // A screenshot on the clipboard, pasted anywhere on the ticket.
    const pasted = await picture(300, 600);
    await page.evaluate((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true }));
    }, pasted.toString('base64'));
    const thumbnail = galleryItem('pasted.png').getByRole('img', { name: 'pasted.png' });
    await thumbnail.waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      (el) => el instanceof HTMLImageElement && el.complete && el.naturalHeight === 256,
      await thumbnail.elementHandle(),
    );
  });

  it('blocks the EICAR file and says which signature clamd found', async () => {
    await picker().setInputFiles([{ name: 'eicar.txt', mimeType: 'text/plain', buffer: EICAR }]);
    const item = galleryItem('eicar.txt');
    await item.locator('.scan-blocked').waitFor({ timeout: 30_000 });
    assert.match(await badgeText(item), /^blocked: malware detected \(Eicar-Test-Signature[^)]*\)$/);
    // Never downloadable, and the upload's own row says the same.
    assert.equal(await item.getByRole('link', { name: /Download/ }).count(), 0);
    assert.match(
      (await uploadRow('eicar.txt').textContent()) ?? '',
      /blocked: malware detected \(Eicar-Test-Signature/,
    );
    await page
      .getByRole('list', { name: 'Timeline' })
      .getByText(/“eicar\.txt” blocked: malware detected \(Eicar-Test-Signature/)
      .waitFor();
    await screenshot(page, 'blocked');
  });

  it('says per file, in plain words, why a file was refused, and uploads the others', async () => {
    const admin = await addTestMember(agent.organizationId, { role: 'admin', api });
    assert.equal((await admin.fetch('PUT', '/api/files/limits', { maxFileBytes: 100 * 1024 })).status, 200);
    try {
      await page.reload();
      await zone().getByText('Up to 100 KB per file.').waitFor();
      const program = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0'), Buffer.alloc(3000)]);
      program.writeUInt32LE(64, 0x3c);
      await picker().setInputFiles([
        { name: 'setup.exe', mimeType: 'application/octet-stream', buffer: program },
        { name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(150 * 1024, 'a') },
        { name: 'fine.txt', mimeType: 'text/plain', buffer: Buffer.from('this one is fine') },
      ]);
      await uploadRow('setup.exe')
        .getByRole('alert')
        .getByText('this looks like a Windows program; not allowed')
        .waitFor();
      await uploadRow('big.txt').getByRole('alert').getByText('too large (150 KB; the limit is 100 KB)').waitFor();
      await galleryItem('fine.txt').locator('.scan-clean').waitFor({ timeout: 30_000 });
      assert.equal(await galleryItem('setup.exe').count(), 0);
      await screenshot(page, 'refused');
    } finally {
      await admin.fetch('PUT', '/api/files/limits', { maxFileBytes: null });
    }
  });

  it('shows the server’s refusal when the ticket’s quota is full, cut short mid-upload', async () => {
    const ticketId = ticketUrl.split('/').pop();
    const listed = await agent.fetch('GET', `/api/tickets/${ticketId}/attachments`);
    const used = listed.body.data
      .filter((a: { scanStatus: string }) => a.scanStatus === 'clean' || a.scanStatus === 'pending_scan')
      .reduce((sum: number, a: { fileSize: number }) => sum + a.fileSize, 0);
    const admin = await addTestMember(agent.organizationId, { role: 'admin', api });
    const quota = await admin.fetch('PUT', '/api/files/limits', { ticketQuotaBytes: used + 64 * 1024 });
    assert.equal(quota.status, 200);
    try {
      // Under the file limit, so only the server knows it does not fit: it stops reading at the quota.
      await picker().setInputFiles([
        { name: 'quota.txt', mimeType: 'text/plain', buffer: Buffer.alloc(3 * 1024 * 1024, 'q') },
      ]);
      await uploadRow('quota.txt')
        .getByRole('alert')
        .getByText(/^the ticket's attachments would exceed its quota of [\d.]+ MB \([\d.]+ MB used\)$/)
        .waitFor();
      assert.equal(await galleryItem('quota.txt').count(), 0);
    } finally {
      await admin.fetch('PUT', '/api/files/limits', { ticketQuotaBytes: null });
    }
  });

  it('deletes a file after asking, and the timeline says so', async () => {
    await page.reload();
    const item = galleryItem('dropped.txt');
    await item.getByRole('button', { name: 'Delete dropped.txt' }).click();
    await item.getByText('Delete?').waitFor();
    await item.getByRole('button', { name: 'Delete', exact: true }).click();
    await item.waitFor({ state: 'detached' });
    await page.getByRole('list', { name: 'Timeline' }).getByText('Deleted “dropped.txt”').waitFor();
    const listed = await agent.fetch('GET', `/api/tickets/${ticketUrl.split('/').pop()}/attachments`);
    assert.deepEqual(listed.body.data.map((a: { fileName: string }) => a.fileName).sort(), [
      'eicar.txt',
      'fine.txt',
      'invoice-notes.txt',
      'pasted.png',
      'screen.png',
    ]);
  });

  it('uploads a large file through the resumable endpoint, with progress, and serves it back intact', async () => {
    const large = Buffer.alloc(RESUMABLE_FROM_BYTES + 1024 * 1024);
    for (let i = 0; i < large.length; i++) large[i] = 97 + ((i * 7) % 26);
    const created: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/uploads') && request.method() === 'POST') created.push(request.url());
    });
    await throttleUploads(8 * 1024 * 1024);
    await picker().setInputFiles([{ name: 'export.csv', mimeType: 'text/csv', buffer: large }]);
    await uploadRow('export.csv').getByRole('progressbar').waitFor();
    await throttleUploads(null);
    await galleryItem('export.csv').locator('.scan-clean').waitFor({ timeout: 60_000 });
    assert.equal(created.length, 1, 'sent with the tus protocol');
    assert.deepEqual(await fetchInPage('export.csv'), { sha256: sha256(large), length: large.length });
  });

  it('resumes a resumable upload after the connection drops, from where the server got to', async () => {
    const large = Buffer.alloc(RESUMABLE_FROM_BYTES + 512 * 1024);
    for (let i = 0; i < large.length; i++) large[i] = 65 + ((i * 11) % 26);
    const sent: string[] = [];
    const log = (request: import('playwright-core').Request) => {
      if (request.url().includes('/api/uploads')) sent.push(request.method());
    };
    page.on('request', log);
    try {
      // Slow enough that the second chunk is still on its way when the network goes.
      await throttleUploads(2 * 1024 * 1024);
      const firstChunk = page.waitForResponse(
        (r) => r.request().method() === 'PATCH' && r.headers()['upload-offset'] === String(4 * 1024 * 1024),
      );
      await picker().setInputFiles([{ name: 'resumed.csv', mimeType: 'text/csv', buffer: large }]);
      await firstChunk;
      await page.waitForTimeout(500);
      await throttleUploads(2 * 1024 * 1024, true);
      await page.waitForTimeout(1500);
      await throttleUploads(null);
      await galleryItem('resumed.csv').locator('.scan-clean').waitFor({ timeout: 60_000 });
    } finally {
      page.off('request', log);
      await throttleUploads(null);
    }
    assert.ok(sent.includes('HEAD'), `asked where to go on from: ${sent.join(' ')}`);
    assert.equal(sent.filter((m) => m === 'POST').length, 1, 'one upload, resumed, not started again');
    assert.deepEqual(await fetchInPage('resumed.csv'), { sha256: sha256(large), length: large.length });
  });

  it('says why a file waits while the virus scanner is down, and until when, then shows it clean', async () => {
    await stopClamd();
    try {
      await picker().setInputFiles([
        { name: 'patience.txt', mimeType: 'text/plain', buffer: Buffer.from('Scanned once clamd is back.') },
      ]);
      const item = galleryItem('patience.txt');
      await item.locator('.scan-waiting').waitFor({ timeout: 30_000 });
      assert.match(await badgeText(item), /^waiting: the virus scanner is unreachable.* until .+$/);
      assert.equal(await item.getByRole('link', { name: /Download/ }).count(), 0);
      await screenshot(page, 'waiting');
    } finally {
      await startClamd();
    }
    await galleryItem('patience.txt').locator('.scan-clean').waitFor({ timeout: 90_000 });
  });

  it('shows a viewer the files and their downloads, but no zone and no delete', async () => {
    const viewer = await addTestMember(agent.organizationId, { role: 'viewer', name: 'Vera Viewer', api });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, api, viewer, ticketUrl);
    await galleryItem('invoice-notes.txt').getByRole('link', { name: 'Download invoice-notes.txt' }).waitFor();
    assert.equal(await zone().count(), 0);
    assert.equal(
      await gallery()
        .getByRole('button', { name: /^Delete/ })
        .count(),
      0,
    );
  });
});
