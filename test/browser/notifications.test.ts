// Notifications in a real browser against the real API and the real pipeline (outbox relay, routing in SQL, each
// recipient's Temporal workflow): an admin writes a rule in the editor and its preview names the right person; an
// agent's bell counts up live as events reach them, and the centre marks read and acknowledges a critical alert;
// preferences are saved and read back; the fatigue view says what was held back and why.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { notificationAlerts, notificationRules } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from '../support/api.ts';
import { testDatabase, truncateAll } from '../support/database.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from '../support/temporal.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `notifications-${name}.png`), fullPage });
}

describe('Notifications in the dashboard (Chromium against the real API and pipeline)', function () {
  this.timeout(120_000);
  const { db } = testDatabase();
  let api: TestApi;
  let pipeline: TestPipeline;
  let admin: TestUser;
  let agent: TestUser;
  // One browser each: a browser profile holds one session.
  let adminBrowser: Browser;
  let agentBrowser: Browser;
  let adminPage: Page;
  let agentPage: Page;
  const pageErrors: string[] = [];

  async function signedIn(browser: Browser, user: TestUser, next: string, heading: string): Promise<Page> {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent(next)}`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    return page;
  }

  async function newTicket(input: Record<string, unknown>) {
    const created = await admin.fetch('POST', '/api/tickets', { subject: 'Printer on fire', ...input });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as { id: string; number: number };
  }

  const bell = (page: Page, unread: number) =>
    page.getByRole('button', { name: unread === 1 ? 'Notifications, 1 unread' : `Notifications, ${unread} unread` });

  before(async function () {
    this.timeout(300_000);
    [adminBrowser, agentBrowser] = await Promise.all([launchChromium(), launchChromium()]);
    const dashboardDir = await buildDashboard();
    const temporal = await testTemporal();
    // The relay would otherwise first route every earlier test file's events through this file's workers.
    await truncateAll();
    const queue = uniqueTaskQueue('notify-ui');
    api = await startTestApi({
      dashboardDir,
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    pipeline = await startPipeline(queue);
    admin = await createTestOrganization({ role: 'admin', api, name: 'Bells Ltd', userName: 'Ada Admin' });
    agent = await addTestMember(admin.organizationId, { role: 'agent', api, name: 'Avery Agent' });
    adminPage = await signedIn(adminBrowser, admin, '/settings/notifications/rules', 'Notifications');
    agentPage = await signedIn(agentBrowser, agent, '/tickets', 'Tickets');
  });

  afterEach(() => {
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
  });

  after(async () => {
    await adminBrowser?.close();
    await agentBrowser?.close();
    await pipeline?.stop();
    await api?.close();
  });

  it('lists the default rules, which can be switched off but not deleted', async () => {
    const list = adminPage.getByRole('list', { name: 'Notification rules' });
    for (const name of ['New urgent ticket', 'SLA warning', 'SLA breach', 'Integration failing']) {
      await list.getByRole('heading', { name, exact: true }).waitFor();
    }
    const breach = list.getByRole('listitem').filter({ has: adminPage.getByRole('heading', { name: 'SLA breach' }) });
    await breach.getByText('Default', { exact: true }).waitFor();
    await breach.getByText('escalates after 15 min').waitFor();
    assert.equal(await breach.getByRole('button', { name: 'Delete SLA breach' }).count(), 0);

    await breach.getByRole('switch', { name: 'SLA breach on' }).uncheck();
    await adminPage.getByText('SLA breach switched off.').waitFor();
    const [row] = await db
      .select()
      .from(notificationRules)
      .where(
        and(eq(notificationRules.organizationId, admin.organizationId), eq(notificationRules.defaultKey, 'sla_breach')),
      );
    assert.equal(row?.isActive, false);
    await breach.getByRole('switch', { name: 'SLA breach on' }).check();
    await adminPage.getByText('SLA breach switched on.').waitFor();
    await screenshot(adminPage, 'rules');
  });

  it('creates a rule in the editor: the API’s 422 sits beside the field, and the preview names the right person', async () => {
    await adminPage.getByRole('button', { name: 'Add rule' }).click();
    const form = adminPage.getByRole('form', { name: 'New notification rule' });
    await form.getByLabel('Rule name').fill('Billing to Avery');
    // ticket.created is ticked for a new rule; add a condition and the recipient.
    await form.getByRole('group', { name: 'Priority' }).getByLabel('high').check();
    await form.getByLabel('Tagged with any of').fill('billing');
    await form.getByLabel('Recipient 1', { exact: true }).selectOption('user');
    await form.getByLabel('Member').selectOption({ label: 'Avery Agent (agent)' });

    const preview = adminPage.getByRole('region', { name: 'Preview: who would be notified' });
    await preview.getByLabel('Priority').selectOption('high');
    await preview.getByLabel('Tags').fill('billing, refunds');
    const table = preview.getByRole('table', { name: 'Who would be notified' });
    const averyRow = table.getByRole('row').filter({ hasText: `Avery Agent (${agent.email})` });
    await averyRow.getByText('Now').waitFor();
    await averyRow.getByText('In app').waitFor();
    assert.equal(await table.getByRole('row').count(), 2, 'the header and Avery, nobody else');

    // A sample the conditions do not match: nobody.
    await preview.getByLabel('Priority').selectOption('low');
    await preview.getByText('Nobody would be notified of this event').waitFor();
    await preview.getByLabel('Priority').selectOption('high');
    await averyRow.getByText('Now').waitFor();
    await screenshot(adminPage, 'editor-preview');

    // Slack is not connected in this organisation: the API refuses the channel, named beside the channels.
    await form.getByRole('group', { name: 'Channels' }).getByLabel('Slack').check();
    await form.getByRole('button', { name: 'Save rule' }).click();
    const channels = form.getByRole('group', { name: 'Channels' });
    await channels.getByText('no slack integration is connected').waitFor();
    assert.equal(await channels.getAttribute('aria-invalid'), 'true');
    await form.getByText('The rule was not saved').waitFor();
    // With Slack among the channels, the preview draws the notification as Slack would show it: the Slack channel's
    // own Block Kit for the sample event, in the Slack renderer of SlackNotificationPreview.
    await preview.getByRole('heading', { name: 'Preview in Slack' }).waitFor();
    const inSlack = preview.getByRole('article', { name: 'The notification in Slack' });
    await inSlack.getByText('New ticket #0 Sample ticket').waitFor();
    await inSlack.getByRole('button', { name: 'Open in Switchboard' }).waitFor();
    await screenshot(adminPage, 'editor-errors');
    const none = await db
      .select()
      .from(notificationRules)
      .where(
        and(eq(notificationRules.organizationId, admin.organizationId), eq(notificationRules.name, 'Billing to Avery')),
      );
    assert.deepEqual(none, [], 'a refused rule is not stored');

    await channels.getByLabel('Slack').uncheck();
    await form.getByRole('button', { name: 'Save rule' }).click();
    await adminPage.getByText('Rule “Billing to Avery” created.').waitFor();
    const saved = await admin.fetch('GET', '/api/notifications/rules');
    const rule = saved.body.data.find((r: { name: string }) => r.name === 'Billing to Avery');
    assert.deepEqual(rule.triggerEvents, ['ticket.created']);
    assert.deepEqual(rule.conditions, { priorities: ['high'], tags: ['billing'] });
    assert.deepEqual(rule.recipients, [{ type: 'user', userId: agent.userId }]);
    assert.deepEqual(rule.channels, ['in_app']);
    await adminPage.getByRole('heading', { name: 'Billing to Avery' }).waitFor();
  });

  it('counts up the agent’s bell live, and the centre marks read and acknowledges a critical alert', async () => {
    const critical = await admin.fetch('POST', '/api/notifications/rules', {
      name: 'VIP alert',
      triggerEvents: ['ticket.created'],
      conditions: { tags: ['vip'] },
      recipients: [{ type: 'user', userId: agent.userId }],
      channels: ['in_app'],
      severity: 'critical',
      escalation: { afterMinutes: 15, recipients: [{ type: 'role', role: 'admin' }] },
    });
    assert.equal(critical.status, 201, JSON.stringify(critical.body));

    await bell(agentPage, 0).waitFor();
    // The rule the admin wrote in the editor reaches the agent; the page is not reloaded.
    const billing = await newTicket({ subject: 'Refund twice', priority: 'high', tags: ['billing'] });
    await bell(agentPage, 1).waitFor({ timeout: 30_000 });
    await agentPage.getByTestId('unread-count').getByText('1').waitFor();
    await screenshot(agentPage, 'bell', false);

    const vip = await newTicket({ subject: 'CEO cannot log in', tags: ['vip'] });
    await bell(agentPage, 2).waitFor({ timeout: 30_000 });

    await bell(agentPage, 2).click();
    const centre = agentPage.getByRole('region', { name: 'Notification centre' });
    const items = centre.getByRole('list', { name: 'Notifications' }).getByRole('listitem');
    const billingItem = items.filter({ hasText: `#${billing.number}` });
    const vipItem = items.filter({ hasText: `#${vip.number}` });
    await billingItem.waitFor();
    await vipItem.getByText('Critical').waitFor();
    assert.equal(await billingItem.getByRole('link').getAttribute('href'), `/tickets/${billing.id}`);
    await screenshot(agentPage, 'centre', false);

    await billingItem.getByRole('button', { name: /^Mark read/ }).click();
    await bell(agentPage, 1).waitFor();
    await billingItem.getByRole('button', { name: /^Mark read/ }).waitFor({ state: 'detached' });

    await vipItem.getByRole('button', { name: /^Acknowledge/ }).click();
    await vipItem.getByText('its escalation is cancelled').waitFor();
    const [alert] = await db.select().from(notificationAlerts).where(eq(notificationAlerts.ticketId, vip.id));
    assert.ok(alert?.acknowledgedAt, 'the alert is acknowledged');
    assert.equal(alert.acknowledgedBy, agent.userId);
    await screenshot(agentPage, 'acknowledged', false);

    await centre.getByRole('button', { name: 'Mark all read' }).click();
    await bell(agentPage, 0).waitFor();
    await centre.getByText('All read', { exact: true }).waitFor();
    const inbox = await agent.fetch('GET', '/api/notifications');
    assert.equal(inbox.body.unread, 0);

    // The full page lists the same.
    await agentPage.goto(`${api.baseUrl}/notifications`);
    await agentPage.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await agentPage
      .getByRole('listitem')
      .filter({ hasText: `#${vip.number}` })
      .waitFor();
  });

  it('saves preferences and reads them back after a reload', async () => {
    await agentPage.goto(`${api.baseUrl}/settings/notifications`);
    await agentPage.getByRole('heading', { name: 'Notification preferences', level: 1 }).waitFor();
    await agentPage.getByText('Critical alerts (such as an SLA breach) ignore these preferences').waitFor();
    const ticketsInApp = agentPage.getByLabel('Tickets by In app');
    assert.equal(await ticketsInApp.isChecked(), true, 'a category never set keeps every channel');
    await ticketsInApp.uncheck();
    await agentPage.getByLabel('Comments by Email').uncheck();

    await agentPage.getByLabel('Hold notifications during quiet hours').check();
    const browserZone = await agentPage.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    assert.equal(await agentPage.getByLabel('Time zone').inputValue(), browserZone);
    // Hours that are not now (so nothing in the next test waits for them): from three hours ahead, for one hour.
    const hh = (offset: number) => String((new Date().getUTCHours() + offset) % 24).padStart(2, '0');
    await agentPage.getByLabel('From').fill(`${hh(3)}:00`);
    await agentPage.getByLabel('Until').fill(`${hh(4)}:00`);
    await agentPage.getByLabel('Time zone').selectOption('UTC');
    await agentPage.getByLabel('Gather my notifications into a digest').selectOption('daily');
    await agentPage.getByRole('button', { name: 'Save preferences' }).click();
    await agentPage.getByText('Preferences saved.').waitFor();

    const stored = await agent.fetch('GET', '/api/notifications/preferences');
    assert.deepEqual(stored.body.quietHours, { start: `${hh(3)}:00`, end: `${hh(4)}:00`, timeZone: 'UTC' });
    assert.equal(stored.body.digestFrequency, 'daily');
    assert.deepEqual(stored.body.channels.ticket, ['email', 'slack', 'webhook']);
    assert.deepEqual(stored.body.channels.comment, ['in_app', 'slack', 'webhook']);

    await agentPage.reload();
    await agentPage.getByRole('heading', { name: 'Notification preferences', level: 1 }).waitFor();
    assert.equal(await agentPage.getByLabel('Tickets by In app').isChecked(), false);
    assert.equal(await agentPage.getByLabel('Tickets by Email').isChecked(), true);
    assert.equal(await agentPage.getByLabel('Comments by Email').isChecked(), false);
    assert.equal(await agentPage.getByLabel('From').inputValue(), `${hh(3)}:00`);
    assert.equal(await agentPage.getByLabel('Gather my notifications into a digest').inputValue(), 'daily');
    await screenshot(agentPage, 'preferences');
  });

  it('shows in the fatigue view what was held back, and why', async () => {
    // The agent turned in-app off for tickets: the default urgent rule's in-app notice is suppressed, with the reason.
    const urgent = await newTicket({ subject: 'Server room flooded', priority: 'urgent', assigneeId: agent.userId });
    await agentPage.goto(`${api.baseUrl}/notifications?view=held-back`);
    await agentPage.getByRole('heading', { name: 'Held back' }).waitFor();
    const row = agentPage
      .getByRole('row')
      .filter({ hasText: `#${urgent.number}` })
      .filter({ hasText: 'In app' });
    await eventually(
      async () => {
        await agentPage.getByRole('button', { name: 'Refresh' }).click();
        await row.waitFor({ timeout: 2_000 });
      },
      { timeoutMs: 30_000 },
    );
    await row.getByText('Suppressed').waitFor();
    await row.getByText('your preferences turn off in_app for ticket notifications').waitFor();
    await row.getByText('New urgent ticket').waitFor();
    await screenshot(agentPage, 'held-back');
    // And nothing reached the bell.
    await bell(agentPage, 0).waitFor();
    await agent.fetch('PUT', '/api/notifications/preferences', {
      channels: {},
      quietHours: null,
      digestFrequency: 'off',
    });
  });
});
