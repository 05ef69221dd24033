// The Linear integration in a real browser against the real API, the real workflows (Temporal) and the local Linear
// server: an admin connects through OAuth and sets the installation up with the wizard, an agent creates a Linear
// issue from a ticket, and a change made in Linear shows on the ticket page by itself.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { createLinearFake, type LinearFake } from '../fakes/linear/server.ts';
import { createTestOrganization, startTestApi, type TestApi, type TestUser, testConfig } from '../support/api.ts';
import { truncateAll } from '../support/database.ts';
import { startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from '../support/temporal.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `linear-${name}.png`), fullPage: true });
}

/** The API and the worker read Linear's endpoints and the OAuth client from the environment, as in production. */
function pointAtFake(linear: LinearFake): () => void {
  const values: Record<string, string> = {
    LINEAR_API_URL: linear.graphqlUrl,
    LINEAR_AUTHORIZE_URL: linear.oauth.authorizeUrl,
    LINEAR_TOKEN_URL: linear.oauth.tokenUrl,
    LINEAR_REVOKE_URL: linear.oauth.revokeUrl,
    LINEAR_CLIENT_ID: linear.oauth.client.clientId,
    LINEAR_CLIENT_SECRET: linear.oauth.client.clientSecret,
  };
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  Object.assign(process.env, values);
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

describe('Linear in the dashboard (Chromium against the real API, workflows and the local Linear)', function () {
  this.timeout(120_000);
  let api: TestApi;
  let admin: TestUser;
  let browser: Browser;
  let page: Page;
  let linear: LinearFake;
  let pipeline: TestPipeline;
  let restoreEnv: () => void = () => {};
  const pageErrors: string[] = [];
  let integrationId = '';
  let ticketId = '';

  before(async function () {
    this.timeout(240_000);
    browser = await launchChromium();
    const dashboardDir = await buildDashboard();
    linear = await createLinearFake();
    restoreEnv = pointAtFake(linear);
    // The relay would otherwise first hand every earlier test file's events to this file's workers.
    await truncateAll();
    // Ticket, SLA and Linear workflows on queues of this file's own (the Linear worker reads the fake's URLs from
    // the environment set above), and the API starting its workflows there.
    const taskQueue = uniqueTaskQueue('linear-browser');
    pipeline = await startPipeline(taskQueue);
    const base = testConfig('http://placeholder');
    api = await startTestApi({
      dashboardDir,
      temporal: (await testTemporal()).client,
      config: { temporal: { ...base.temporal, ticketsTaskQueue: taskQueue } },
    });
    admin = await createTestOrganization({ role: 'admin', api, name: 'Acme Support', userName: 'Ada Admin' });

    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent('/settings/integrations')}`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
  });

  afterEach(() => {
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
    linear.assertNoRejectedOperations();
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await pipeline?.stop();
    await linear?.close();
    restoreEnv();
  });

  it('connects through Linear’s OAuth consent and comes back to the wizard at the team step', async () => {
    await page.getByRole('button', { name: 'Add integration' }).click();
    await page.getByLabel('Type').selectOption('linear');
    await page.getByRole('heading', { name: 'Step 1 of 7: Connect' }).waitFor();
    await screenshot(page, 'connect');
    await page.getByRole('button', { name: 'Connect with Linear' }).click();

    // Linear approves at once (as Ada) and the callback sends the browser back here.
    await page.waitForURL((url) => url.pathname === '/settings/integrations');
    await page.getByRole('heading', { name: 'Step 2 of 7: Team' }).waitFor();
    await page.getByText(/Connected to Linear/).waitFor();
    assert.ok(!page.url().includes('linear='), 'the return parameters are taken out of the address');
    const calls = linear.oauth.calls.map((c) => `${c.endpoint}:${c.grantType ?? ''}:${c.outcome}`);
    assert.deepEqual(calls, ['authorize::ok', 'token:authorization_code:ok'], 'consent, then one code exchange');

    const integrations = (await admin.fetch('GET', '/api/integrations')).body.data as {
      id: string;
      integrationType: string;
      config: Record<string, unknown>;
    }[];
    const installation = integrations.find((i) => i.integrationType === 'linear');
    assert.ok(installation, 'the callback created a Linear installation');
    integrationId = installation.id;
    assert.equal((installation.config.workspace as { urlKey?: string } | undefined)?.urlKey, 'acme');
  });

  it('chooses team ENG (and lets agents link Support’s issues too), keeps the default mappings and rules, registers the webhook and tests the connection', async () => {
    await page.getByRole('radio', { name: 'Engineering (ENG)' }).check();
    // The other teams are offered as extra teams whose issues agents may link; the chosen one is not.
    assert.equal(await page.getByRole('checkbox', { name: 'Engineering (ENG)' }).count(), 0);
    await page.getByRole('checkbox', { name: 'Support (SUP)' }).check();
    await screenshot(page, 'team');
    await page.getByRole('button', { name: 'Save and continue' }).click();

    await page.getByRole('heading', { name: 'Step 3 of 7: Statuses' }).waitFor();
    const stateFor = (status: string) => page.getByLabel(`Linear state for ticket status ${status}`, { exact: true });
    const selected = async (status: string) =>
      stateFor(status).evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent ?? '');
    assert.equal(await selected('open'), 'Todo (unstarted)');
    assert.equal(await selected('pending'), 'In Progress (started)');
    assert.equal(await selected('on hold'), 'Backlog (backlog)');
    assert.equal(await selected('solved'), 'Done (completed)');
    const statusFor = (state: string) =>
      page
        .getByLabel(`Ticket status for Linear state ${state}`, { exact: true })
        .evaluate((s: HTMLSelectElement) => s.value);
    assert.equal(await statusFor('In Review'), 'pending');
    assert.equal(await statusFor('Canceled'), 'closed');
    await screenshot(page, 'statuses');
    await page.getByRole('button', { name: 'Save and continue' }).click();

    await page.getByRole('heading', { name: 'Step 4 of 7: Priority' }).waitFor();
    assert.equal(await page.getByLabel('Sync priority both ways').isChecked(), true);
    await page.getByRole('cell', { name: 'Medium' }).waitFor();
    await page.getByRole('button', { name: 'Save and continue' }).click();

    await page.getByRole('heading', { name: 'Step 5 of 7: Rules' }).waitFor();
    await screenshot(page, 'rules');
    await page.getByRole('button', { name: 'Save and continue' }).click();

    await page.getByRole('heading', { name: 'Step 6 of 7: Webhook' }).waitFor();
    await page.getByRole('button', { name: 'Register webhook in Linear' }).click();
    await page.getByText(/Webhook registered in Linear/).waitFor();
    assert.equal(linear.state.webhooks.size, 1, 'one webhook registered through the API');
    await screenshot(page, 'webhook');
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Step 7 of 7: Done' }).waitFor();
    const test = page.getByRole('region', { name: 'Connection test' });
    await test.getByText('Connected: Switchboard can reach Linear.').waitFor({ timeout: 15_000 });
    await test.getByText('Engineering (ENG)').waitFor();
    await test.getByText('Registered in Linear').waitFor();
    await screenshot(page, 'done');

    const [saved] = (await admin.fetch('GET', '/api/integrations')).body.data.filter(
      (i: { id: string }) => i.id === integrationId,
    );
    const eng = linear.state.teamByKey('ENG');
    assert.ok(eng);
    assert.equal(saved.config.teamId, eng.id);
    assert.deepEqual(saved.config.additionalTeamIds, [linear.state.teamByKey('SUP')?.id]);
    assert.equal(saved.config.statusToLinear.open, linear.state.stateByName(eng.id, 'Todo')?.id);
    assert.equal(saved.config.linearToStatus[linear.state.stateByName(eng.id, 'In Progress')?.id ?? ''], 'pending');
    assert.ok(saved.config.webhookId, 'the registered webhook is kept in the config across the saves');
    assert.ok(saved.config.workspace, 'the server-set workspace survived the wizard’s saves');

    await page.getByRole('button', { name: 'Finish' }).click();
    await page.getByText(/saved\./).waitFor();
  });

  it('creates a Linear issue from a ticket and shows the link with its state', async () => {
    const created = await admin.fetch('POST', '/api/tickets', {
      subject: 'Checkout button does nothing',
      description: 'Customers cannot pay since this morning.',
      priority: 'high',
    });
    assert.equal(created.status, 201);
    ticketId = created.body.id;
    await page.goto(`${api.baseUrl}/tickets/${ticketId}`);
    const section = page.getByRole('region', { name: 'Linear', exact: true });
    await section.getByText('No Linear issue is linked to this ticket.').waitFor();
    await section.getByRole('button', { name: 'Create Linear issue' }).click();

    const item = section.getByRole('list', { name: 'Linked Linear issues' }).getByRole('listitem');
    await item.getByRole('link', { name: /ENG-1/ }).waitFor({ timeout: 30_000 });
    await item.locator('.linear-state').getByText('Todo', { exact: true }).waitFor();
    await item.getByText('Checkout button does nothing').waitFor();
    assert.match((await item.getByRole('link', { name: /ENG-1/ }).getAttribute('href')) ?? '', /\/issue\/ENG-1/);
    await item.locator('.sync-synced').waitFor({ timeout: 15_000 });
    assert.equal(linear.countCalls('issueCreate'), 1);
    await screenshot(page, 'linked');
  });

  it('shows a change made in Linear (state → In Progress) and the ticket moving to pending, without a reload', async () => {
    const section = page.getByRole('region', { name: 'Linear', exact: true });
    const item = section.getByRole('list', { name: 'Linked Linear issues' }).getByRole('listitem');
    linear.simulate.updateIssue('ENG-1', { stateName: 'In Progress' });
    await item.locator('.linear-state').getByText('In Progress', { exact: true }).waitFor({ timeout: 20_000 });
    await page.locator('.page-heading .status-pending').waitFor({ timeout: 15_000 });
    const ticket = await admin.fetch('GET', `/api/tickets/${ticketId}`);
    assert.equal(ticket.body.status, 'pending');
    // The timeline says who moved the ticket: the Linear installation, by name.
    const moved = page
      .getByRole('list', { name: 'Timeline' })
      .locator('.timeline-event[data-event-type="ticket.status_changed"]');
    await moved.getByText(/by Linear/).waitFor({ timeout: 15_000 });
    await screenshot(page, 'synced');
  });
  it('links an existing issue by identifier, says inline when there is no such issue, and unlinks after confirmation', async () => {
    const section = page.getByRole('region', { name: 'Linear', exact: true });
    const field = section.getByLabel('Link existing issue');
    await field.fill('ENG-999');
    await section.getByRole('button', { name: 'Link', exact: true }).click();
    await section.getByText('Linear has no issue ENG-999 that Switchboard can see.').waitFor({ timeout: 20_000 });
    assert.equal(await field.getAttribute('aria-invalid'), 'true');

    const created = linear.simulate.createIssue({ title: 'Payments provider times out', stateName: 'Backlog' });
    const existing = { identifier: linear.state.identifier(created) };
    await field.fill(existing.identifier);
    await section.getByRole('button', { name: 'Link', exact: true }).click();
    const items = section.getByRole('list', { name: 'Linked Linear issues' }).getByRole('listitem');
    const linked = items.filter({ hasText: existing.identifier });
    await linked.getByText('Payments provider times out').waitFor({ timeout: 20_000 });
    assert.equal(await field.getAttribute('aria-invalid'), null, 'the earlier error is gone');
    assert.equal(await items.count(), 2);
    await screenshot(page, 'two-links');

    await linked.getByRole('button', { name: `Unlink ${existing.identifier}` }).click();
    await linked.getByRole('button', { name: 'Keep link' }).click();
    assert.equal(await items.count(), 2, 'keeping the link changes nothing');
    await linked.getByRole('button', { name: `Unlink ${existing.identifier}` }).click();
    await linked.getByRole('button', { name: 'Confirm unlink' }).click();
    await section.getByText(`${existing.identifier} unlinked.`).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.linear-link').length === 1);
    const links = await admin.fetch('GET', `/api/tickets/${ticketId}/linear-links`);
    assert.deepEqual(
      links.body.data.map((l: { identifier: string }) => l.identifier),
      ['ENG-1'],
    );
  });

  it('disconnects the installation after confirmation, revoking its token in Linear', async () => {
    await page.goto(`${api.baseUrl}/settings/integrations`);
    await page.getByRole('button', { name: /^Edit Linear/ }).click();
    await page.getByRole('heading', { name: 'Step 2 of 7: Team' }).waitFor();
    // Editing opens at the team, with the stored choice.
    assert.equal(await page.getByRole('radio', { name: 'Engineering (ENG)' }).isChecked(), true);
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByText('Disconnect from Linear?').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Keep connected');
    await page.getByRole('button', { name: 'Confirm disconnect' }).click();
    await page.getByText(/Disconnected from Linear/).waitFor();
    await page.getByRole('heading', { name: 'Step 1 of 7: Connect' }).waitFor();
    await page.getByText('Reconnect this installation to Linear.').waitFor();
    assert.ok(
      linear.oauth.calls.some((c) => c.endpoint === 'revoke' && c.outcome === 'ok'),
      'the token was revoked in Linear',
    );
    await screenshot(page, 'disconnected');
  });
});
