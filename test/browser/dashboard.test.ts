// The dashboard in a real browser against the real API: a support agent's day, through the UI only.
// The steps build on each other (one browser session signs in once), so they run in order.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from '../support/api.ts';
import { withProbes } from '../support/probe-integrations.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function signInThroughBrowser(page: Page, api: TestApi, user: TestUser): Promise<void> {
  await page.goto(`${api.baseUrl}/login`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tickets', exact: true }).waitFor();
}

describe('dashboard (Chromium against the real API)', function () {
  this.timeout(60_000);
  let api: TestApi;
  let admin: TestUser;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const subject = `Printer on fire ${Date.now()}`;
  let ticketUrl = '';

  before(async function () {
    this.timeout(180_000);
    // Launch first: a missing Chromium should fail fast with its install hint, before the build.
    browser = await launchChromium();
    const dashboardDir = await buildDashboard();
    // The probes plug in through the module list: the dashboard offers them from the server's catalogue.
    api = await startTestApi({ dashboardDir, integrations: withProbes });
    admin = await createTestOrganization({ role: 'admin', api, name: 'Acme Support', userName: 'Ada Admin' });
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterEach(() => {
    // Taken out, so one crash fails the step it happened in rather than every step after it.
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
  });

  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('sends a visitor to the login page, rejects a wrong password, then signs in and shows who is signed in', async () => {
    await page.goto(`${api.baseUrl}/tickets`);
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    assert.match(page.url(), /\/login\?next=%2Ftickets$/);

    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /invalid/i })
      .waitFor();
    await screenshot(page, 'login');

    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tickets', exact: true }).waitFor();
    const account = page.getByRole('region', { name: 'Signed-in user' });
    await account.getByText('Ada Admin').waitFor();
    await account.getByText('Acme Support').waitFor();
    assert.equal(await account.locator('.role').textContent(), 'admin');
  });

  it('creates a ticket with the New ticket form and opens it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New ticket' }).click();
    await page.getByLabel('Subject').fill(subject);
    await page.getByLabel('Description').fill('The office printer is emitting smoke.\nPlease advise.');
    await page.getByLabel('Requester email').fill('grace@customer.test');
    await page.getByLabel('Requester name').fill('Grace Hopper');
    await page.getByLabel('Priority').selectOption('high');
    await page.getByLabel('Tags').fill('hardware, urgent-ish');
    await screenshot(page, 'new-ticket');
    await page.getByRole('button', { name: 'Create ticket' }).click();

    await page.getByRole('heading', { level: 1, name: subject }).waitFor();
    assert.match(page.url(), /\/tickets\/[0-9a-f-]{36}$/);
    assert.equal(await page.title(), `#1 ${subject} · Switchboard`);
    ticketUrl = page.url();
    await page.getByText('Ticket created').waitFor();
  });

  it('finds the ticket in the list by searching its subject, and opens it from there', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tickets' }).click();
    await page.getByLabel('Search').fill('printer on fire');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const row = page.getByRole('row').filter({ hasText: subject });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /open\s*high/);
    assert.match(page.url(), /q=printer/);
    await screenshot(page, 'ticket-list');

    await page.getByRole('link', { name: subject }).click();
    await page.getByRole('heading', { level: 1, name: subject }).waitFor();
    assert.equal(page.url(), ticketUrl);
    assert.equal(await page.getByRole('form', { name: 'Update ticket' }).count(), 1);
    assert.equal(await page.getByRole('form', { name: 'Add a comment' }).count(), 1);
  });

  it('adds a public reply and an internal note, and shows both in the timeline', async () => {
    await page.getByRole('textbox', { name: 'Comment' }).fill('We have dispatched a fire extinguisher.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    const reply = page.getByRole('article', { name: 'Reply by Ada Admin' });
    await reply.getByText('We have dispatched a fire extinguisher.').waitFor();

    await page.getByRole('textbox', { name: 'Comment' }).fill('Customer sounds calm; keep an eye on it.');
    await page.getByRole('radio', { name: 'Internal note' }).check();
    await page.getByRole('button', { name: 'Add internal note' }).click();
    await page.getByRole('article', { name: 'Internal note by Ada Admin' }).waitFor();

    const timeline = page.getByRole('list', { name: 'Timeline' });
    const items = await timeline.getByRole('listitem').allInnerTexts();
    assert.equal(items.length, 3, `timeline: ${JSON.stringify(items)}`);
    assert.match(items[0]!, /^Ticket created by Ada Admin/);
    assert.match(items[1]!, /Public reply[\s\S]*fire extinguisher/);
    assert.match(items[2]!, /Internal note[\s\S]*keep an eye/);
  });

  it('changes the status and shows the status-change event in the timeline', async () => {
    await page.getByLabel('Status', { exact: true }).selectOption('pending');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Status changed open → pending').waitFor();
    await page.getByText('Ticket updated.').waitFor();
    const badges = page.locator('.page-heading .badges');
    assert.match((await badges.textContent()) ?? '', /pending/);
    await screenshot(page, 'ticket-detail');
  });

  it('on a stale version (409) says so, reloads the ticket, and keeps nothing half-saved', async () => {
    // Someone else changes the ticket after this page loaded it.
    const ticketId = ticketUrl.split('/').pop()!;
    const current = await admin.fetch('GET', `/api/tickets/${ticketId}`);
    const patched = await admin.fetch('PATCH', `/api/tickets/${ticketId}`, {
      version: current.body.version,
      priority: 'urgent',
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));

    await page.getByLabel('Status', { exact: true }).selectOption('solved');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone else changed this ticket' }).waitFor();
    // The reloaded ticket shows the other person's change and still the old status.
    await page.locator('.page-heading .badges').getByText('urgent').waitFor();
    assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), 'pending');
    await page.getByText('Priority changed high → urgent').waitFor();
    await screenshot(page, 'ticket-conflict');
    const after = await admin.fetch('GET', `/api/tickets/${ticketId}`);
    assert.equal(after.body.status, 'pending');
  });

  it('pages through a long list with Load more', async () => {
    for (let i = 1; i <= 27; i++) {
      const created = await admin.fetch('POST', '/api/tickets', { subject: `Batch ticket ${i}`, tags: ['batch'] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    await page.goto(`${api.baseUrl}/tickets?tag=batch`);
    const rows = page.locator('.ticket-table tbody tr');
    await page.getByRole('button', { name: 'Load more' }).waitFor();
    assert.equal(await rows.count(), 25);
    assert.equal(await page.getByLabel('Tag').inputValue(), 'batch');
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByRole('link', { name: 'Batch ticket 1', exact: true }).waitFor();
    assert.equal(await rows.count(), 27);
    assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
  });

  it('shows the newest timeline activity first in pages, and earlier activity on demand', async () => {
    const long = await admin.fetch('POST', '/api/tickets', { subject: 'Long conversation' });
    for (let i = 1; i <= 55; i++) {
      const posted = await admin.fetch('POST', `/api/tickets/${long.body.id}/comments`, { body: `Message ${i}` });
      assert.equal(posted.status, 201, JSON.stringify(posted.body));
    }
    await page.goto(`${api.baseUrl}/tickets/${long.body.id}`);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    const comments = timeline.getByRole('article');
    await timeline.getByText('Message 55', { exact: true }).waitFor();
    // One page of 50 (the newest): earlier ones are not loaded, and nothing is shown out of order in between.
    assert.equal(await comments.count(), 50);
    assert.match((await timeline.getByRole('listitem').first().textContent()) ?? '', /Message 6\b/);
    assert.equal(await page.getByText('Ticket created').count(), 0);

    await page.getByRole('button', { name: 'Show earlier activity' }).click();
    await timeline.getByText('Message 1', { exact: true }).waitFor();
    assert.equal(await comments.count(), 55);
    assert.match((await timeline.getByRole('listitem').first().textContent()) ?? '', /^Ticket created/);
    assert.equal(await page.getByRole('button', { name: 'Show earlier activity' }).count(), 0);
  });

  it('offers only the types the server has a module for, and adds one without a wizard through the generic form, with JSON and API errors shown beside the form', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click();
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
    await page.getByText('No integrations yet.').waitFor();
    await page.getByRole('button', { name: 'Add integration' }).click();
    const offered = await page.getByLabel('Type').locator('option').allTextContents();
    assert.deepEqual(
      offered,
      ['Webhook', 'Linear', 'File storage', 'Email', 'Slack', 'Notifications', 'Probe', 'Probe mail'],
      'the types with a module, each once',
    );
    await page.getByLabel('Type').selectOption('probe-mail');
    await page.getByLabel('Name').fill('Support mail');

    // Not JSON: caught in the browser, nothing sent.
    await page.getByLabel('Config (JSON)').fill('{ url: nope');
    await page.getByRole('button', { name: 'Add integration' }).click();
    await page.getByText(/Config is not valid JSON/).waitFor();

    // JSON, but not a valid email config: the API's details appear beside the form.
    await page.getByLabel('Config (JSON)').fill('{"fromAddress": "not an address"}');
    await page.getByRole('button', { name: 'Add integration' }).click();
    const apiError = page.locator('.form-errors').getByRole('alert');
    await apiError.waitFor();
    assert.match((await apiError.textContent()) ?? '', /fromAddress/);
    await screenshot(page, 'integration-form-errors');

    await page.getByLabel('Config (JSON)').fill(JSON.stringify(emailConfig, null, 2));
    await page.getByRole('button', { name: 'Add integration' }).click();
    await page.getByText('Support mail added.').waitFor();
    const item = page.getByRole('list', { name: 'Configured integrations' }).getByRole('listitem');
    await item.getByRole('heading', { name: 'Support mail' }).waitFor();
    assert.match((await item.textContent()) ?? '', /Probe mail\s*Active/);
    await screenshot(page, 'integrations');

    const listed = await admin.fetch('GET', '/api/integrations');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.data.map((i: { integrationType: string; name: string; isActive: boolean }) => [
        i.integrationType,
        i.name,
        i.isActive,
      ]),
      [['probe-mail', 'Support mail', true]],
    );

    // Edit: rename it and give it credentials, which come back only as a hint.
    await page.getByRole('button', { name: 'Edit Support mail' }).click();
    await page.getByLabel('Name').fill('Support mail EU');
    await page.getByLabel('Credentials (JSON)').fill('{"smtpPassword": "smtp-dashboard-test-secret-7q"}');
    await page.getByRole('button', { name: 'Save integration' }).click();
    await page.getByText('Support mail EU saved.').waitFor();
    await item.getByRole('heading', { name: 'Support mail EU' }).waitFor();
    const meta = (await item.locator('.integration-meta').textContent()) ?? '';
    assert.match(meta, /credentials \S+/);
    assert.doesNotMatch(meta, /smtp-dashboard-test-secret-7q/);

    await page.getByRole('button', { name: 'Disable Support mail EU' }).click();
    await page.getByText('Support mail EU disabled.').waitFor();
    await item.getByText('Inactive').waitFor();
    const stored = await admin.fetch('GET', '/api/integrations');
    assert.equal(stored.body.data[0].isActive, false);
  });

  it('signs out and is asked to sign in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await page.goto(ticketUrl);
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
  });
});

describe('dashboard for a viewer (Chromium against the real API)', function () {
  this.timeout(60_000);
  let api: TestApi;
  let viewer: TestUser;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(180_000);
    browser = await launchChromium();
    api = await startTestApi({ dashboardDir: await buildDashboard() });
    const admin = await createTestOrganization({ role: 'admin', api });
    viewer = await addTestMember(admin.organizationId, { role: 'viewer', name: 'Vera Viewer', api });
    const created = await admin.fetch('POST', '/api/tickets', { subject: 'Read-only ticket', priority: 'low' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await signInThroughBrowser(page, api, viewer);
  });

  afterEach(() => {
    // Taken out, so one crash fails the step it happened in rather than every step after it.
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
  });

  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('shows a ticket and its timeline without the controls a viewer may not use', async () => {
    await page.getByRole('link', { name: 'Read-only ticket' }).click();
    await page.getByRole('heading', { level: 1, name: 'Read-only ticket' }).waitFor();
    await page.getByText('Ticket created').waitFor();
    assert.equal(await page.getByRole('form', { name: 'Update ticket' }).count(), 0);
    assert.equal(await page.getByRole('form', { name: 'Add a comment' }).count(), 0);
    assert.equal(await page.getByRole('region', { name: 'Signed-in user' }).locator('.role').textContent(), 'viewer');
  });

  it('explains that only agents open tickets and only admins change integrations', async () => {
    assert.equal(await page.getByRole('link', { name: 'New ticket' }).count(), 0);
    await page.goto(`${api.baseUrl}/tickets/new`);
    await page.getByText('can read tickets but not open them').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create ticket' }).count(), 0);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click();
    await page.getByText('Only admins can add or change integrations').waitFor();
    await page.getByText('No integrations yet.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add integration' }).count(), 0);
  });

  it("says so when a ticket does not exist (or is another organisation's)", async () => {
    await page.goto(`${api.baseUrl}/tickets/00000000-0000-4000-8000-000000000000`);
    await page
      .getByRole('alert')
      .filter({ hasText: /There is no such ticket/ })
      .waitFor();
    await screenshot(page, 'ticket-not-found');
  });

  it('sends the viewer to the login page when the session is gone, and back after signing in', async () => {
    await page.goto(`${api.baseUrl}/tickets`);
    await page.getByRole('link', { name: 'Read-only ticket' }).waitFor();
    await browser.context.clearCookies();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click();
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    assert.match(page.url(), /\/login\?next=%2Fsettings%2Fintegrations$/);

    await page.getByLabel('Email').fill(viewer.email);
    await page.getByLabel('Password').fill(viewer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
  });
});

const emailConfig = { fromAddress: 'support@acme.test' };
