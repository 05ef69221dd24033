// WebhookManager in a real browser against the real API, the real delivery workflow (Temporal) and a real HTTP
// receiver on loopback: everything is done through the UI, and what the receiver got is checked against it.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { maskWebhookUrl } from '../../domain/webhooks/url-visibility.ts';
import { behaviours, type Receiver, startReceiver } from '../receivers/webhook-receiver.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from '../support/api.ts';
import { testDatabase } from '../support/database.ts';
import { type RunningWorker, testTemporal } from '../support/temporal.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `webhooks-${name}.png`), fullPage: true });
}

/** The delivery log's rows for one event type (each delivery is its own row group). */
function deliveries(page: Page, eventType: string): Locator {
  return page.locator('.delivery-table tbody.delivery-row').filter({ hasText: eventType });
}

describe('WebhookManager (Chromium against the real API, delivery workflow and receiver)', function () {
  this.timeout(90_000);
  let api: TestApi;
  let admin: TestUser;
  let browser: Browser;
  let page: Page;
  let receiver: Receiver;
  let webhooksWorker: RunningWorker;
  const pageErrors: string[] = [];
  let firstSecret = '';

  before(async function () {
    this.timeout(240_000);
    browser = await launchChromium();
    const dashboardDir = await buildDashboard();
    const temporal = await testTemporal();
    // The API wakes endpoint workflows on the production webhooks queue; this server is this file's own.
    // Compressed retries: the default schedule (about 28 hours) runs in a few seconds.
    webhooksWorker = await temporal.startWebhooksWorker({
      db: testDatabase().db,
      ticketsTaskQueue: 'tickets',
      settings: { retryCompression: 10_000 },
    });
    api = await startTestApi({ dashboardDir, temporal: temporal.client });
    receiver = await startReceiver();
    receiver.route('/failing', behaviours.ok(500));
    admin = await createTestOrganization({ role: 'admin', api, name: 'Hooked Ltd', userName: 'Ada Admin' });

    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.baseUrl });
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent('/settings/integrations/webhooks')}`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  });

  afterEach(() => {
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await receiver?.close();
    await webhooksWorker?.stop();
  });

  it('starts empty and shows what is wrong beside the form fields, locally and from the API', async () => {
    await page.getByText('No webhook endpoints yet.').waitFor();
    await screenshot(page, 'empty');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const form = page.getByRole('form', { name: 'New webhook endpoint' });
    await form.getByLabel('ticket.created', { exact: true }).waitFor();

    // Nothing chosen: caught in the browser.
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    await form.getByText('Enter the URL Switchboard should POST events to.').waitFor();
    await form.getByText('Choose at least one event type.').waitFor();

    // A URL the API refuses: its message sits under the URL field, which is marked invalid.
    await form.getByLabel('Endpoint URL').fill('ftp://files.example.test/hooks');
    await form.getByLabel('ticket.created', { exact: true }).check();
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    const urlField = form.getByLabel('Endpoint URL');
    await page.waitForFunction(
      () => document.getElementById('webhook-new-url')?.getAttribute('aria-invalid') === 'true',
    );
    const urlError = (await form.locator('#webhook-new-url-error').textContent()) ?? '';
    assert.ok(urlError.length > 0, 'the API error for the URL is shown beside the URL field');
    assert.equal(await urlField.getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'form-errors');

    const listed = await admin.fetch('GET', '/api/webhooks/endpoints');
    assert.deepEqual(listed.body.data, [], 'a refused endpoint is not stored');
  });

  it('creates an endpoint and shows its secret once, with a copy button', async () => {
    const form = page.getByRole('form', { name: 'New webhook endpoint' });
    await form.getByLabel('Endpoint URL').fill(receiver.url('/hooks'));
    await form.getByLabel('Description').fill('Ops automation');
    await form.getByLabel('ticket.status_changed', { exact: true }).check();
    await form.getByRole('button', { name: 'Create endpoint' }).click();

    await page.getByRole('heading', { name: 'Endpoint created' }).waitFor();
    await page.getByText("you won't see it again").waitFor();
    firstSecret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    assert.match(firstSecret, /^whsec_[A-Za-z0-9+/]+=*$/);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Secret copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), firstSecret);
    await screenshot(page, 'secret');

    await page.getByRole('button', { name: 'I have saved the secret' }).click();
    await page.getByRole('heading', { level: 2, name: receiver.url('/hooks') }).waitFor();
    await page.getByText('Ops automation').waitFor();
    assert.ok(!(await page.content()).includes(firstSecret), 'the secret is not on the page any more');

    const [endpoint] = (await admin.fetch('GET', '/api/webhooks/endpoints')).body.data;
    assert.deepEqual(endpoint.eventTypes.toSorted(), ['ticket.created', 'ticket.status_changed']);
  });

  it('sends a test event and shows the delivery succeeding, with its attempt', async () => {
    await page.getByText('No deliveries yet.').waitFor();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('Test event queued.').waitFor();

    // The log refreshes itself while the delivery is pending.
    const row = deliveries(page, 'webhook.test');
    await row.locator('.delivery-succeeded').waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: 'Show attempts' }).click();
    const attempts = row.locator('.attempt-table tbody tr');
    await attempts.first().waitFor();
    assert.equal(await attempts.count(), 1);
    const attempt = (await attempts.first().textContent()) ?? '';
    assert.match(attempt, /HTTP 200/);
    assert.match(attempt, /\d+ ms/);
    await screenshot(page, 'delivered');

    // The receiver got exactly that message, signed.
    const received = receiver.requestsTo('/hooks');
    assert.equal(received.length, 1);
    const messageId = ((await row.locator('.delivery-message-id').textContent()) ?? '').trim();
    assert.equal(received[0]!.headers['webhook-id'], messageId);
    assert.match(String(received[0]!.headers['webhook-signature']), /^v1,/);
    assert.equal(JSON.parse(received[0]!.body).type, 'webhook.test');

    // Health follows: the endpoint has now succeeded.
    await page.locator('.webhook-health .health-healthy').waitFor();
  });

  it('shows a failing receiver’s attempts with their status code, then resends once it recovers', async () => {
    await page.getByRole('button', { name: 'Back to endpoints' }).click();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const form = page.getByRole('form', { name: 'New webhook endpoint' });
    await form.getByLabel('Endpoint URL').fill(receiver.url('/failing'));
    await form.getByLabel('Description').fill('Flaky receiver');
    await form.getByLabel('ticket.created', { exact: true }).check();
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByRole('button', { name: 'I have saved the secret' }).click();
    await page.getByRole('heading', { level: 2, name: receiver.url('/failing') }).waitFor();

    await page.getByRole('button', { name: 'Send test event' }).click();
    const row = deliveries(page, 'webhook.test');
    await row.getByRole('button', { name: 'Show attempts' }).click({ timeout: 15_000 });
    await row.locator('.attempt-table').getByText('HTTP 500').first().waitFor({ timeout: 15_000 });
    await screenshot(page, 'failing');

    // The compressed schedule runs out: the delivery fails, after every attempt was made.
    await row.locator('.delivery-failed').waitFor({ timeout: 45_000 });
    // The open attempt list catches up with the delivery's attempt count.
    const attemptCount = Number(await row.locator('td').nth(2).textContent());
    await page.waitForFunction((n) => document.querySelectorAll('.attempt-table tbody tr').length === n, attemptCount);
    const attemptRows = await row.locator('.attempt-table tbody tr').allTextContents();
    assert.ok(attemptRows.length > 1, `several attempts: ${JSON.stringify(attemptRows)}`);
    for (const text of attemptRows) assert.match(text, /HTTP 500/);
    assert.equal(receiver.requestsTo('/failing').length, attemptRows.length);
    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    await deliveries(page, 'webhook.test').first().waitFor();
    await page.getByLabel('Status', { exact: true }).selectOption('succeeded');
    await page.getByText('No succeeded deliveries.').waitFor();
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await row.locator('.attempt-table').waitFor();
    await screenshot(page, 'failed');

    // The receiver is fixed; "resend all failed since" (a day ago by default) sends it again, and it succeeds.
    receiver.route('/failing', behaviours.ok());
    await page.getByRole('button', { name: 'Resend failed' }).click();
    await page.getByText('1 failed delivery queued again.').waitFor();
    await deliveries(page, 'webhook.test').locator('.delivery-succeeded').waitFor({ timeout: 20_000 });
    await screenshot(page, 'resent');
  });

  it('lists both endpoints with their health', async () => {
    await page.getByRole('button', { name: 'Back to endpoints' }).click();
    const list = page.getByRole('list', { name: 'Webhook endpoints' });
    const items = list.getByRole('listitem');
    await items.nth(1).waitFor();
    assert.equal(await items.count(), 2);
    const hooks = items.filter({ hasText: receiver.url('/hooks') });
    await hooks.locator('.health-healthy').waitFor();
    await hooks.getByText(/success rate \(24\s*h\) 100 % · last attempt \d/).waitFor();
    const failing = items.filter({ hasText: receiver.url('/failing') });
    await failing.getByText(/success rate \(24\s*h\) \d+(\.\d)? %/).waitFor();
    await screenshot(page, 'list');
  });

  it('edits an endpoint, with the API’s refusal shown beside the field', async () => {
    await page.getByRole('button', { name: `Manage ${receiver.url('/hooks')}` }).click();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const form = page.getByRole('form', { name: 'Edit webhook endpoint' });
    assert.equal(await form.getByLabel('ticket.created', { exact: true }).isChecked(), true);
    await form.getByLabel('Parallel requests at most').fill('500');
    await form.getByRole('button', { name: 'Save endpoint' }).click();
    const concurrency = form.getByLabel('Parallel requests at most');
    const invalid = form.locator('input[aria-invalid="true"]');
    await invalid.waitFor();
    assert.equal(await invalid.getAttribute('id'), await concurrency.getAttribute('id'));
    const describedBy = (await concurrency.getAttribute('aria-describedby')) ?? '';
    assert.match((await form.locator(`[id="${describedBy}"]`).textContent()) ?? '', /100/);

    await concurrency.fill('4');
    await form.getByLabel('Description').fill('Ops automation (EU)');
    await form.getByLabel('comment.created', { exact: true }).check();
    await form.getByRole('button', { name: 'Save endpoint' }).click();
    await page.getByText('Endpoint saved.').waitFor();
    await page.getByText('50 requests/s, 4 in parallel').waitFor();
    await page.getByText('Ops automation (EU)').waitFor();
    const [saved] = (await admin.fetch('GET', '/api/webhooks/endpoints')).body.data.filter(
      (e: { url: string }) => e.url === receiver.url('/hooks'),
    );
    assert.deepEqual(saved.eventTypes.toSorted(), ['comment.created', 'ticket.created', 'ticket.status_changed']);
  });

  it('rotates the secret (showing the new one once), disables and enables, and deletes after confirmation', async () => {
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByLabel('Keep signing with the old secret for (hours)').fill('2');
    await page
      .getByRole('form', { name: 'Rotate signing secret' })
      .getByRole('button', { name: 'Rotate secret' })
      .click();
    await page.getByRole('heading', { name: 'New signing secret' }).waitFor();
    const rotated = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, firstSecret);
    await page.getByText('also signed with the previous secret until').waitFor();
    await screenshot(page, 'rotated');
    // Where the browser refuses the clipboard, the secret is selected for copying by hand, and the page says so.
    await page.evaluate(() => {
      navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('The browser did not allow copying.').waitFor();
    const selected = await page.evaluate(() => {
      const input = document.activeElement as HTMLInputElement;
      return input.value.slice(input.selectionStart ?? 0, input.selectionEnd ?? 0);
    });
    assert.equal(selected, rotated);
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getByRole('textbox', { name: 'Signing secret' }).count(), 0);

    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Endpoint disabled: nothing is sent to it until enabled.').waitFor();
    await page.locator('.webhook-health').getByText('Disabled', { exact: true }).first().waitFor();
    await page.getByRole('list', { name: 'Endpoint events' }).getByText('Endpoint disabled').waitFor();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('Endpoint enabled.').waitFor();
    await page.getByRole('list', { name: 'Endpoint events' }).getByText('Endpoint enabled').waitFor();

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Delete this endpoint and its delivery log?').waitFor();
    await page.getByRole('button', { name: 'Keep it' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await page.getByText('Endpoint deleted.').waitFor();
    const items = page.getByRole('list', { name: 'Webhook endpoints' }).getByRole('listitem');
    await items.first().waitFor();
    assert.equal(await items.count(), 1);
    assert.equal((await admin.fetch('GET', '/api/webhooks/endpoints')).body.data.length, 1);
  });
  it('is the webhook editor of Integration settings: adding creates an endpoint, Edit opens it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click();
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Add integration' }).click();
    await page.getByLabel('Type').selectOption('webhook');
    const form = page.getByRole('form', { name: 'New webhook endpoint' });
    await form.getByLabel('Endpoint URL').fill(receiver.url('/from-settings'));
    await form.getByLabel('Description').fill('From settings');
    await form.getByLabel('comment.created', { exact: true }).check();
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    assert.match(await page.getByRole('textbox', { name: 'Signing secret' }).inputValue(), /^whsec_/);
    await page.getByRole('button', { name: 'I have saved the secret' }).click();
    await page.getByText('From settings added.').waitFor();

    await page.getByRole('button', { name: 'Edit From settings' }).click();
    await page.getByRole('heading', { level: 2, name: receiver.url('/from-settings') }).waitFor();
    await page.getByText('No deliveries yet.').waitFor();
    await screenshot(page, 'integration-settings');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByRole('heading', { name: 'Edit From settings' }).waitFor({ state: 'detached' });
  });
  it('shows an endpoint the receiver retired with 410 as disabled, with the reason and its endpoint.disabled event', async () => {
    receiver.route('/gone', behaviours.gone());
    await page.goto(`${api.baseUrl}/settings/integrations/webhooks`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const form = page.getByRole('form', { name: 'New webhook endpoint' });
    await form.getByLabel('Endpoint URL').fill(receiver.url('/gone'));
    await form.getByLabel('ticket.created', { exact: true }).check();
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByRole('button', { name: 'I have saved the secret' }).click();
    await page.getByRole('button', { name: 'Send test event' }).click();

    const row = deliveries(page, 'webhook.test');
    await row.locator('.delivery-failed').waitFor({ timeout: 20_000 });
    await row.getByRole('button', { name: 'Show attempts' }).click();
    await row.locator('.attempt-table').getByText('HTTP 410').waitFor();
    const reason = page.locator('.webhook-health .badge-inactive');
    await reason.waitFor();
    assert.match((await reason.textContent()) ?? '', /^Disabled: .*410/);
    const events = page.getByRole('list', { name: 'Endpoint events' });
    await events.getByText('Endpoint disabled').waitFor();
    assert.match((await events.textContent()) ?? '', /410/);
    assert.equal(await page.getByRole('button', { name: 'Enable', exact: true }).count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Send test event' }).isDisabled(), true);
    await page.getByText('Nothing is sent to a disabled endpoint').waitFor();
    await screenshot(page, 'disabled');

    await page.getByRole('button', { name: 'Back to endpoints' }).click();
    const item = page
      .getByRole('list', { name: 'Webhook endpoints' })
      .getByRole('listitem')
      .filter({
        hasText: receiver.url('/gone'),
      });
    await item.getByText(/^Disabled: .*410/).waitFor();
  });
  it('sets the retry schedule, with the wait that is wrong named, and resets it to the default', async () => {
    await page.goto(`${api.baseUrl}/settings/integrations/webhooks`);
    const form = page.getByRole('form', { name: 'Retry schedule' });
    const waits = form.getByLabel('Waits after each failed attempt');
    await waits.waitFor();
    assert.equal(await waits.inputValue(), '5s, 5m, 30m, 2h, 5h, 10h, 10h');

    await waits.fill('1m, 10s');
    await form.getByRole('button', { name: 'Save retry schedule' }).click();
    await form.getByText('Wait 2: each wait must be at least as long as the one before (60 s)').waitFor();

    await waits.fill('10s, 1m, 1h, 24h');
    await form.getByRole('button', { name: 'Save retry schedule' }).click();
    await form.getByText('Retry schedule saved.').waitFor();
    const stored = await admin.fetch('GET', '/api/webhooks/retry-schedule');
    assert.deepEqual(stored.body.retryDelaysSeconds, [10, 60, 3600, 86_400]);

    await form.getByRole('button', { name: 'Reset to default' }).click();
    await form.getByText('Retry schedule reset to the default.').waitFor();
    assert.equal(await waits.inputValue(), '5s, 5m, 30m, 2h, 5h, 10h, 10h');
    assert.equal((await admin.fetch('GET', '/api/webhooks/retry-schedule')).body.isDefault, true);
  });

  it('shows a viewer the endpoints, health and delivery log, without the controls only admins may use', async () => {
    const viewer = await addTestMember(admin.organizationId, { role: 'viewer', name: 'Vera Viewer', api });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent('/settings/integrations/webhooks')}`);
    await page.getByLabel('Email').fill(viewer.email);
    await page.getByLabel('Password').fill(viewer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Only admins can add or change webhook endpoints').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add endpoint' }).count(), 0);

    // A viewer sees where deliveries go (scheme and host), not the path or query that may hold a token.
    const masked = maskWebhookUrl(receiver.url('/failing'));
    assert.equal(await page.getByText(receiver.url('/failing')).count(), 0);
    await page.getByRole('button', { name: `Manage ${masked} (Flaky receiver)` }).click();
    await page.getByRole('heading', { level: 2, name: masked }).waitFor();
    const row = deliveries(page, 'webhook.test');
    await row.getByRole('button', { name: 'Show attempts' }).click();
    await row.locator('.attempt-table').getByText('HTTP 200').waitFor();
    assert.equal(await page.getByRole('form', { name: 'Retry schedule' }).count(), 0, 'no retry schedule form');
    for (const name of ['Send test event', 'Edit', 'Disable', 'Rotate secret', 'Delete', 'Resend failed']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `no ${name} button`);
    }
    assert.equal(await row.getByRole('button', { name: /^Resend / }).count(), 0);
    await screenshot(page, 'viewer');
  });
});
