// Slack in a real browser against the real API, the real workflows (Temporal) and the local Slack: an admin adds
// Switchboard to a workspace through Slack's consent page, writes a channel rule with a channel from the workspace's
// own list (the API's refusal of a wrong domain shown under its field), sees the rule's message drawn as Slack draws
// it, sends a test message that arrives in the channel, and chooses their own DMs; a ticket the rule matches is posted
// to the channel by the pipeline and its page links to the thread there; and a workspace that uninstalls the app
// shows as disconnected, with Slack's reason.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { ACME, createSlackFake, type SlackFake } from '../fakes/slack/server.ts';
import { createTestOrganization, startTestApi, type TestApi, type TestUser, testConfig } from '../support/api.ts';
import { truncateAll } from '../support/database.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from '../support/temporal.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');
const BILLING = ACME.channels?.find((c) => c.name === 'billing')?.id ?? '';

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `slack-${name}.png`), fullPage: true });
}

/** The error a field names with aria-describedby, or null. */
async function errorOf(field: Locator): Promise<string | null> {
  return field.evaluate((element) => {
    const ids = (element.getAttribute('aria-describedby') ?? '').split(/\s+/).filter((id) => id.endsWith('-error'));
    const text = ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
    return text || null;
  });
}

/** The API and the worker read the Slack app and Slack's URLs from the environment, as in production. */
function pointAtFake(slack: SlackFake): () => void {
  const values: Record<string, string> = {
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    SLACK_AUTHORIZE_URL: slack.oauth.authorizeUrl,
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

describe('Slack in the dashboard (Chromium against the real API, workflows and the local Slack)', function () {
  this.timeout(120_000);
  let api: TestApi;
  let admin: TestUser;
  let browser: Browser;
  let page: Page;
  let slack: SlackFake;
  let pipeline: TestPipeline;
  let restoreEnv: () => void = () => {};
  const pageErrors: string[] = [];
  let integrationId = '';

  const setup = () => page.getByRole('region', { name: /^Edit / });
  const rules = () => page.getByRole('form', { name: 'Slack channel rules' });
  const rule = (n: number) => rules().getByRole('listitem', { name: new RegExp(`^Rule ${n}\\b`) });

  before(async function () {
    this.timeout(240_000);
    browser = await launchChromium();
    const dashboardDir = await buildDashboard();
    // Not installed anywhere yet: the only way in is "Add to Slack".
    slack = await createSlackFake({ preinstall: false });
    restoreEnv = pointAtFake(slack);
    // The relay would otherwise first hand every earlier test file's events to this file's workers.
    await truncateAll();
    const taskQueue = uniqueTaskQueue('slack-browser');
    pipeline = await startPipeline(taskQueue);
    const base = testConfig('http://placeholder');
    api = await startTestApi({
      dashboardDir,
      temporal: (await testTemporal()).client,
      config: { temporal: { ...base.temporal, ticketsTaskQueue: taskQueue } },
    });
    // Slack sends its events (the app's own messages, the uninstall) to the API's Request URL.
    slack.setRequestUrl(`${api.baseUrl}/api/slack/events`);
    admin = await createTestOrganization({ role: 'admin', api, name: 'Acme Helpdesk', userName: 'Ada Admin' });

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
    slack.assertNoRejectedCalls();
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await pipeline?.stop();
    await slack?.close();
    restoreEnv();
  });

  it('adds Switchboard to a workspace through Slack’s consent page and comes back to it, connected', async () => {
    await page.getByRole('button', { name: 'Add integration' }).click();
    await page.getByLabel('Type').selectOption('slack');
    await page.getByRole('button', { name: 'Add to Slack' }).waitFor();
    await screenshot(page, 'add');
    await page.getByRole('button', { name: 'Add to Slack' }).click();

    // Slack approves at once (as Ada, Acme's admin) and the callback sends the browser back here.
    await page.waitForURL((url) => url.pathname === '/settings/integrations');
    await page.getByText('Connected to Slack (Acme Support). Now choose which channels get which tickets.').waitFor();
    assert.ok(!page.url().includes('slack='), 'the return parameters are taken out of the address');
    const workspace = setup().getByRole('region', { name: 'Slack workspace' });
    await workspace.getByRole('heading', { name: 'Acme Support' }).waitFor();
    await workspace.getByText('Connected', { exact: true }).waitFor();
    assert.deepEqual(
      slack.oauth.log.map((entry) => `${entry.step}:${entry.outcome}`),
      ['authorize:approved', 'access:ok'],
      'consent, then one code exchange',
    );

    const installations = (await admin.fetch('GET', '/api/slack/installations')).body.data;
    assert.equal(installations.length, 1);
    assert.equal(installations[0].teamId, ACME.id);
    assert.equal(installations[0].connected, true);
    integrationId = installations[0].integrationId;
    await screenshot(page, 'connected');
  });

  it('adds a rule posting to a channel picked from the workspace’s list, shows the API’s refusal of a wrong domain under its field, and saves it', async () => {
    await rules().getByRole('button', { name: 'Add rule' }).click();
    const editor = rule(1);
    await editor.getByLabel('Rule name').fill('Billing questions');
    const channel = editor.getByLabel('Channel', { exact: true });
    // The workspace's channels, as conversations.list gives them to the bot; not the archived one.
    await channel.locator('option', { hasText: 'billing' }).waitFor({ state: 'attached' });
    const offered = await channel.locator('option').allTextContents();
    assert.ok(offered.includes('#general') && offered.includes('#support'), offered.join(', '));
    assert.ok(!offered.some((o) => o.includes('old-news')), 'archived channels are not offered');
    // Slack lists a private channel to the bot only once it is a member.
    assert.ok(!offered.some((o) => o.includes('escalations')), 'a private channel without the bot is not offered');
    await channel.selectOption({ label: '#billing' });
    await editor.getByText('Switchboard joins #billing when it first posts there.').waitFor();
    await editor.getByRole('checkbox', { name: /^SLA warnings and breaches/ }).check();
    await editor.getByRole('checkbox', { name: 'High', exact: true }).check();
    await editor.getByRole('checkbox', { name: 'Urgent', exact: true }).check();
    await editor.getByLabel('Tagged with any of').fill('billing');
    const domains = editor.getByLabel('Requester’s email domain, any of');
    await domains.fill('customer.test, not_a_domain');

    await rules().getByRole('button', { name: 'Save rules' }).click();
    await rules().getByText('Please correct the fields marked above.').waitFor();
    assert.equal(await domains.getAttribute('aria-invalid'), 'true');
    assert.equal(await errorOf(domains), 'Entry 2: must be a domain such as example.com');
    // The preview still draws the message while the rule is invalid, and says why it cannot judge the rule yet.
    const preview = editor.getByRole('region', { name: 'Preview in Slack' });
    await preview.getByText(/shows once the rule is valid \(must be a domain such as example\.com\)/).waitFor();
    await preview.getByRole('article', { name: 'The ticket’s message' }).waitFor();
    await screenshot(page, 'rule-refused');

    await domains.fill('customer.test');
    assert.equal(await domains.getAttribute('aria-invalid'), null, 'the corrected field no longer says it is wrong');
    await rules().getByRole('button', { name: 'Save rules' }).click();
    await rules().getByText('Rules saved: 1 rule.').waitFor();

    const saved = (await admin.fetch('GET', '/api/integrations')).body.data.find(
      (i: { id: string }) => i.id === integrationId,
    );
    const [stored] = saved.config.rules;
    assert.equal(saved.config.rules.length, 1);
    assert.match(stored.id, /^rule-[a-z0-9]+$/);
    assert.deepEqual(
      { ...stored, id: undefined },
      {
        id: undefined,
        name: 'Billing questions',
        channelId: BILLING,
        channelName: 'billing',
        kinds: ['new_ticket', 'sla'],
        priorities: ['high', 'urgent'],
        tags: ['billing'],
        requesterDomains: ['customer.test'],
      },
    );
    assert.ok(!('publicReplyPrefix' in saved.config), 'an empty reply word is left to the server’s default');
  });

  it('draws the rule’s message as Slack would: bold linked title, decoded requester, two columns of fields, the SLA time, buttons and the status select', async () => {
    const preview = rule(1).getByRole('region', { name: 'Preview in Slack' });
    await preview.getByText('This rule would send the sample ticket.').waitFor();
    const message = preview.getByRole('article', { name: 'The ticket’s message' });
    const title = message.getByRole('link', { name: '#42 Cannot download my invoice' });
    await title.waitFor();
    assert.equal(await title.evaluate((a) => a.parentElement?.tagName), 'STRONG', 'the title is bold, as *<url|…>*');
    assert.match((await title.getAttribute('href')) ?? '', /\/tickets\/00000000-0000-4000-8000-000000000042$/);
    // mrkdwn's escapes are undone: the requester's address reads as written.
    await message.getByText('Carol Customer <carol@customer.test>').waitFor();
    const columns = await message
      .locator('.slack-fields')
      .evaluate((grid) => getComputedStyle(grid).gridTemplateColumns.split(' ').length);
    assert.equal(columns, 2, 'fields in two columns');
    await message.getByRole('img', { name: 'large orange circle' }).waitFor();
    const context = (await message.locator('.slack-context').textContent()) ?? '';
    // Read in the browser's zone (UTC here): "today", or "tomorrow" when the two hours cross midnight.
    assert.match(context, /^First response due in 2 hours \((today|tomorrow) \d{1,2}:\d{2} [AP]M\)$/);
    assert.ok(!(await message.textContent())?.includes('<!date'), 'no raw date token is shown');
    for (const name of ['Assign to me', 'Add note', 'Discuss in DM', 'Open in dashboard'])
      await message.getByRole('button', { name }).waitFor();
    assert.equal(await message.getByRole('combobox', { name: 'Status' }).inputValue(), 'open');
    await screenshot(page, 'preview');

    // An SLA message is a reply in the ticket's thread.
    await preview.getByLabel('Message for').selectOption({ label: 'SLA warnings and breaches' });
    const reply = preview.getByRole('article', { name: 'The reply in the ticket’s thread' });
    await reply.getByText(/SLA warning: the resolution is due in 1 hour/).waitFor();
    await reply.getByRole('img', { name: 'warning' }).waitFor();

    // A rule whose conditions leave the sample ticket out says so.
    await rule(1).getByRole('checkbox', { name: 'High', exact: true }).uncheck();
    await preview.getByText(/This rule would not send the sample ticket/).waitFor();
    await rule(1).getByRole('checkbox', { name: 'High', exact: true }).check();
    await preview.getByText('This rule would send the sample ticket.').waitFor();
  });

  it('sends a test message to the rule’s channel, which arrives there in Slack, and says what Slack answered when it refuses', async () => {
    slack.failNext('chat.postMessage', { error: 'is_archived' });
    await rule(1).getByRole('button', { name: 'Send test message for rule 1' }).click();
    await rule(1)
      .getByText('The test message to #billing failed: Slack refused the test message: is_archived')
      .waitFor();
    assert.equal(slack.history(BILLING).length, 0);

    await rule(1).getByRole('button', { name: 'Send test message for rule 1' }).click();
    await rule(1).getByText('Test message posted to #billing.').waitFor();
    const link = rule(1).getByRole('link', { name: 'Open it in Slack' });
    const posted = slack.history(BILLING);
    assert.equal(posted.length, 1);
    assert.match(posted[0]!.text, /Switchboard can post here/);
    assert.equal(posted[0]!.bot_id, ACME.botId);
    assert.equal(
      await link.getAttribute('href'),
      `https://acme-support.slack.com/archives/${BILLING}/p${posted[0]!.ts.replace('.', '')}`,
    );
    await screenshot(page, 'test-message');
  });

  it('keeps the person’s own DM choices', async () => {
    const dms = page.getByRole('form', { name: 'Your Slack DMs' });
    const assignments = dms.getByLabel('DM me when a ticket is assigned to me');
    assert.equal(await assignments.isChecked(), false);
    await assignments.check();
    await dms.getByRole('button', { name: 'Save my DM choices' }).click();
    await dms.getByText('Your DM choices are saved.').waitFor();
    assert.deepEqual((await admin.fetch('GET', '/api/slack/me')).body, { dmAssignments: true, dmMentions: false });
  });

  it('posts a ticket the rule matches to the channel, and the ticket’s page links to its thread there', async () => {
    const created = await admin.fetch('POST', '/api/tickets', {
      subject: 'Invoice PDF is blank',
      description: 'The March invoice downloads as an empty page.',
      priority: 'urgent',
      tags: ['billing'],
      requesterEmail: 'dora@customer.test',
    });
    assert.equal(created.status, 201);
    const ticketId: string = created.body.id;
    // The pipeline (relay → the ticket's Slack workflow → chat.postMessage) posts it; nothing here writes Slack's rows.
    const message = await eventually(
      async () => {
        const found = slack.history(BILLING).find((m) => m.text.includes('Invoice PDF is blank'));
        assert.ok(found, 'the ticket’s message is in #billing');
        return found;
      },
      { timeoutMs: 30_000 },
    );

    await page.goto(`${api.baseUrl}/tickets/${ticketId}`);
    const section = page.getByRole('region', { name: 'Slack', exact: true });
    const link = section.getByRole('link', { name: /#billing in Acme Support/ });
    await link.waitFor({ timeout: 20_000 });
    assert.equal(
      await link.getAttribute('href'),
      `https://acme-support.slack.com/archives/${BILLING}/p${message.ts.replace('.', '')}`,
    );
    const conversations = (await admin.fetch('GET', `/api/tickets/${ticketId}/slack`)).body.data;
    assert.deepEqual(
      conversations.map((c: { channelId: string; ts: string }) => [c.channelId, c.ts]),
      [[BILLING, message.ts]],
    );
    await screenshot(page, 'ticket');
  });

  it('shows a workspace that uninstalled the app as disconnected, with Slack’s reason and since when, and the tickets waiting for it', async () => {
    await slack.uninstall(ACME.id);
    // A ticket the rule matches, while nothing can be posted: its Slack work waits for the workspace.
    const created = await admin.fetch('POST', '/api/tickets', {
      subject: 'Refund not received',
      priority: 'high',
      tags: ['billing'],
      requesterEmail: 'erin@customer.test',
    });
    assert.equal(created.status, 201);
    const installation = await eventually(
      async () => {
        const [found] = (await admin.fetch('GET', '/api/slack/installations')).body.data;
        assert.equal(found.connected, false);
        assert.equal(found.paused.tickets, 1);
        return found;
      },
      { timeoutMs: 30_000 },
    );
    // Slack revokes the tokens and then says the app was uninstalled: the server keeps the reason it recorded.
    assert.ok(['tokens_revoked', 'app_uninstalled'].includes(installation.disconnectedReason));
    const when = (iso: string) =>
      new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(
        new Date(iso),
      );

    await page.goto(`${api.baseUrl}/settings/integrations`);
    await page.getByRole('button', { name: 'Edit Slack (Acme Support)' }).click();
    const workspace = setup().getByRole('region', { name: 'Slack workspace' });
    await workspace.getByText('Disconnected', { exact: true }).waitFor();
    const said = (await workspace.locator('.notice-error').textContent()) ?? '';
    assert.ok(
      said.startsWith(`Disconnected since ${when(installation.disconnectedAt)}: `),
      `the message says since when: ${said}`,
    );
    assert.match(said, new RegExp(`: [A-Za-z][^(]+ \\(${installation.disconnectedReason}\\)\\. Add to Slack again`));
    await workspace
      .getByText(`1 ticket’s Slack messages wait since ${when(installation.paused.since)}`, { exact: false })
      .waitFor();
    // The rules are kept, with the channel's name although the workspace's list cannot be read now.
    await rule(1).getByText('#billing · New tickets, SLA warnings and breaches', { exact: false }).waitFor();
    await screenshot(page, 'disconnected');
  });
});
