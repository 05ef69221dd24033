// Email in a real browser against the real API: an admin sets a mailbox up with EmailIntegrationSetup (the API's
// errors under their fields, a live connection test against a closed IMAP port and an SMTP server that refuses the
// password, the inbound webhook secret shown once), an agent reads a ticket's thread in EmailThread (verdicts, the
// DMARC warning, files and refused files, quoted text, the HTML in a sandbox that runs and loads nothing) and writes
// with EmailComposer (rich text, a refused CC, a file, the template preview, a send whose answer is lost and which is
// still queued once), and reviews held mail. The thread is seeded in the database; the SMTP round trip is the email
// end-to-end test's.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { type EmailAuthResults, emailInbound, ticketAttachments, ticketEmails } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import type { Locator, Page } from 'playwright-core';
import { emailSettings } from '../../packages/integrations/email/settings.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from '../support/api.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `email-${name}.png`), fullPage: true });
}

async function signIn(page: Page, api: TestApi, user: TestUser, next: string): Promise<void> {
  await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The error a field names with aria-describedby, or null. */
async function errorOf(field: Locator): Promise<string | null> {
  return field.evaluate((element) => {
    const ids = (element.getAttribute('aria-describedby') ?? '').split(/\s+/).filter((id) => id.endsWith('-error'));
    const text = ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
    return text || null;
  });
}

/** An SMTP server that greets, offers AUTH and refuses every password, as a real one with a wrong password does. */
async function refusingSmtpServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.write('220 mail.acme.test ESMTP ready\r\n');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') socket.write('250-mail.acme.test\r\n250 AUTH PLAIN LOGIN\r\n');
        else if (verb === 'HELO') socket.write('250 mail.acme.test\r\n');
        else if (verb === 'AUTH') socket.write('535 5.7.8 Authentication credentials invalid\r\n');
        else if (verb === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
        else socket.write('502 5.5.2 Not implemented\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

/** A port nothing listens on: the connection is refused. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

describe('email in the dashboard (Chromium against the real API)', function () {
  this.timeout(120_000);
  let api: TestApi;
  let admin: TestUser;
  let agent: TestUser;
  let browser: Browser;
  let page: Page;
  let smtp: { server: Server; port: number };
  let imapPort = 0;
  let mailboxId = '';
  let ticketId = '';
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  // A tracking pixel's server: an email's HTML that reached it would tell the sender the agent read the mail.
  let tracker: HttpServer;
  let trackerUrl = '';
  const trackerHits: string[] = [];

  const setup = () => page.getByRole('form', { name: 'Email mailbox' });
  const thread = () => page.getByRole('list', { name: 'Email thread' });
  const composer = () => page.getByRole('form', { name: 'Write an email' });

  before(async function () {
    this.timeout(300_000);
    browser = await launchChromium();
    const dashboardDir = await buildDashboard();
    smtp = await refusingSmtpServer();
    tracker = createHttpServer((req, res) => {
      trackerHits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'image/gif' }).end();
    });
    await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
    trackerUrl = `http://127.0.0.1:${(tracker.address() as { port: number }).port}`;
    imapPort = await closedPort();
    // The test's mail servers are on loopback without TLS, which a deployment must allow explicitly.
    api = await startTestApi({
      dashboardDir,
      config: (config) => emailSettings.with(config, { allowCidrs: ['127.0.0.0/8'], allowInsecure: true }),
    });
    admin = await createTestOrganization({ role: 'admin', api, name: 'Acme Support', userName: 'Ada Admin' });
    agent = await addTestMember(admin.organizationId, { role: 'agent', name: 'Alan Agent', api });

    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await signIn(page, api, admin, '/settings/integrations');
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
  });

  afterEach(() => {
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
    assert.deepEqual(dialogs, [], 'nothing opened a dialog (no script ran)');
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await new Promise<void>((resolve) => (smtp?.server ? smtp.server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (tracker ? tracker.close(() => resolve()) : resolve()));
  });

  it('shows the API’s refusal of a mailbox under the fields it names', async () => {
    await page.getByRole('button', { name: 'Add integration' }).click();
    await page.getByLabel('Type').selectOption({ label: 'Email' });
    const form = setup();
    await form.getByLabel('Support address').fill('support at acme');
    await form.getByLabel('SMTP host').fill('smtp acme test');
    await form.getByRole('button', { name: 'Add mailbox' }).click();

    await form.getByText('Please correct the fields marked above.').waitFor();
    assert.match((await errorOf(form.getByLabel('Support address'))) ?? '', /email/i);
    assert.equal(await form.getByLabel('Support address').getAttribute('aria-invalid'), 'true');
    assert.equal(await errorOf(form.getByLabel('SMTP host')), 'must be a host name or an IP address');
    await screenshot(page, 'setup-errors');

    // Changing a field takes its error away; the other stays until it is fixed too.
    await form.getByLabel('Support address').fill('support@acme.test');
    assert.equal(await errorOf(form.getByLabel('Support address')), null);
    assert.equal(await errorOf(form.getByLabel('SMTP host')), 'must be a host name or an IP address');
  });

  it('tests IMAP and SMTP as typed and says what is wrong with each in plain words', async () => {
    const form = setup();
    await form.getByLabel('Read this mailbox over IMAP').check();
    await form.getByLabel('IMAP host').fill('127.0.0.1');
    await form.getByLabel('IMAP security').selectOption('none');
    await form.getByLabel('IMAP port').fill(String(imapPort));
    await form.getByLabel('IMAP user name').fill('support');
    await form.getByLabel('IMAP password').fill('imap-secret-1');
    await form.getByLabel('SMTP host').fill('127.0.0.1');
    await form.getByLabel('SMTP security').selectOption('none');
    // Choosing "none" offered its usual port; this server listens elsewhere.
    assert.equal(await form.getByLabel('SMTP port').inputValue(), '25');
    await form.getByLabel('SMTP port').fill(String(smtp.port));
    await form.getByLabel('SMTP user name').fill('support');
    await form.getByLabel('SMTP password').fill('smtp-secret-wrong');
    await form.getByRole('button', { name: 'Test connection' }).click();

    const result = form.getByRole('region', { name: 'Connection test' });
    await result.waitFor();
    const lines = await result.getByRole('listitem').allTextContents();
    assert.deepEqual(lines, [
      'IMAP: IMAP 127.0.0.1: connection refused',
      'SMTP: SMTP 127.0.0.1: wrong user name or password (the server said: 535 5.7.8 Authentication credentials invalid)',
    ]);
    await screenshot(page, 'setup-connection-test');
  });

  it('saves the mailbox with its rules and branding, and never shows a password back', async () => {
    const form = setup();
    await form.getByRole('radio', { name: /Hold for review/ }).check();
    await form.getByLabel("Answer a new ticket's sender automatically").check();
    await form.getByLabel('At most once per sender every (hours)').fill('12');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await form.getByLabel("Sender's domain").fill('bigcustomer.test');
    await form.getByLabel('Then set the priority to').selectOption('high');
    await form.getByLabel('And add the tags').fill('vip, key account');
    await form.getByLabel('Accent colour', { exact: true }).fill('#3355ff');
    await form.getByLabel('Footer').fill('Acme Ltd · 1 Main Street');
    await form.getByRole('button', { name: 'Add mailbox' }).click();
    await form.getByText('Mailbox added.', { exact: false }).waitFor();
    await screenshot(page, 'setup-saved');

    const integrations = (await admin.fetch('GET', '/api/integrations')).body.data as {
      id: string;
      integrationType: string;
      config: Record<string, unknown>;
      credentialsHint: string | null;
    }[];
    const mailbox = integrations.find((i) => i.integrationType === 'email');
    assert.ok(mailbox, 'the mailbox was created');
    mailboxId = mailbox.id;
    assert.equal(mailbox.config.address, 'support@acme.test');
    assert.equal(mailbox.config.dmarcPolicy, 'hold');
    assert.deepEqual(mailbox.config.routing, [
      { fromDomain: 'bigcustomer.test', priority: 'high', tags: ['vip', 'key account'] },
    ]);
    assert.deepEqual(mailbox.config.branding, { accentColor: '#3355ff', footer: 'Acme Ltd · 1 Main Street' });
    assert.equal((mailbox.config.autoReply as { windowHours: number }).windowHours, 12);
    assert.ok(mailbox.credentialsHint, 'the passwords were stored');
    assert.ok(!JSON.stringify(mailbox).includes('smtp-secret-wrong'), 'no password comes back from the API');

    // The form now edits the saved mailbox: its password fields are empty, with only the hint.
    assert.equal(await form.getByLabel('IMAP password').inputValue(), '');
    assert.equal(await form.getByLabel('SMTP password').inputValue(), '');
    assert.match(
      (await form
        .getByText(/Saved \(.*\): leave empty to keep it\./)
        .first()
        .textContent()) ?? '',
      /Saved/,
    );
    assert.equal(await page.locator('input[type="password"]').evaluateAll((inputs) => inputs.length), 2);
  });

  it('generates the inbound webhook secret once, with the URL a provider posts raw mail to', async () => {
    const form = setup();
    await form.getByRole('button', { name: 'Generate inbound webhook secret' }).click();
    const url = await form.getByLabel('Webhook URL').inputValue();
    const secret = await form.getByLabel('Secret', { exact: true }).inputValue();
    assert.equal(url, `${api.baseUrl}/api/email/inbound-webhook/${mailboxId}`);
    await screenshot(page, 'setup-inbound-secret');

    // The secret shown is the one the webhook takes: with it the request gets as far as its (empty) body.
    const post = (authorization: string) =>
      fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'message/rfc822' }, body: '' });
    assert.equal((await post(`Bearer ${secret}`)).status, 400);
    assert.equal((await post('Bearer not-the-secret')).status, 401);

    await form.getByRole('button', { name: 'I have saved the secret' }).click();
    assert.equal(await form.getByLabel('Secret', { exact: true }).count(), 0, 'the secret is gone from the page');
  });

  it('asks for every saved secret when one of them changes, since credentials are replaced together', async () => {
    const form = setup();
    await form.getByLabel('SMTP password').fill('smtp-secret-2');
    await form.getByRole('button', { name: 'Save mailbox' }).click();
    assert.match((await errorOf(form.getByLabel('IMAP password'))) ?? '', /replaced together/);
    await form.getByLabel('IMAP password').fill('imap-secret-2');
    await form.getByRole('button', { name: 'Save mailbox' }).click();
    await form.getByText('Mailbox saved.').waitFor();
    await form.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('heading', { name: 'Support mailbox', level: 3 }).waitFor();
  });

  it('shows a ticket’s thread oldest first: direction, verdicts, the DMARC warning, files, refused files, outbound state', async () => {
    const created = await agent.fetch('POST', '/api/tickets', {
      subject: 'Invoice 2026-117 is wrong',
      description: 'The total does not match the order.',
      requesterEmail: 'carol@customer.test',
      requesterName: 'Carol Customer',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    ticketId = created.body.id;

    const form = new FormData();
    form.append(
      'file',
      new Blob(['Line 1: 3 × widgets\nLine 2: shipping\n'], { type: 'text/plain' }),
      'invoice-lines.txt',
    );
    const upload = await fetch(`${api.baseUrl}/api/tickets/${ticketId}/attachments`, {
      method: 'POST',
      headers: { cookie: agent.cookie, origin: api.baseUrl },
      body: form,
    });
    assert.equal(upload.status, 201, await upload.clone().text());
    const attachmentId = ((await upload.json()) as { data: { id: string }[] }).data[0]!.id;
    // The scan is the pipeline's business (not running here); the thread shows a clean file with its download.
    await api.deps.db
      .update(ticketAttachments)
      .set({ scanStatus: 'clean' })
      .where(eq(ticketAttachments.id, attachmentId));

    const base = { organizationId: admin.organizationId, supportRequestId: ticketId, integrationId: mailboxId };
    await api.deps.db.insert(ticketEmails).values([
      {
        ...base,
        messageId: '<m1@customer.test>',
        direction: 'inbound',
        status: 'received',
        kind: 'message',
        fromAddress: 'carol@customer.test',
        toAddresses: ['support@acme.test'],
        ccAddresses: ['dave@customer.test'],
        subject: 'Invoice 2026-117 is wrong',
        displayText: 'Hello,\n\nthe total on invoice 2026-117 does not match our order.\n\nCarol',
        content:
          'Hello,\n\nthe total on invoice 2026-117 does not match our order.\n\nCarol\n\n' +
          'On Mon, 1 Dec 2025 at 09:12, Acme Billing <billing@acme.test> wrote:\n> Please find your invoice attached.',
        // As if the sanitiser had missed something: the frame must neither run it nor load it.
        htmlContent:
          '<p>Hello,</p><p>the <b>total</b> on invoice 2026-117 does not match our order.</p>' +
          `<img src="${trackerUrl}/pixel.gif?m=1" alt=""><script>alert("ran")</script>`,
        authResults: {
          dkim: 'pass',
          spf: 'pass',
          dmarc: 'fail',
          arc: null,
          dmarcPolicy: 'reject',
          dkimDomains: ['bulkmailer.test'],
          spfDomain: 'bulkmailer.test',
        },
        authFlagged: true,
        attachmentIds: [attachmentId],
        attachmentRefusals: [
          { fileName: 'setup.exe', size: 48_213, reason: 'this looks like a Windows program; not allowed' },
        ],
        createdAt: hoursAgo(3),
      },
      {
        ...base,
        messageId: '<r1@acme.test>',
        direction: 'outbound',
        status: 'sent',
        kind: 'reply',
        fromAddress: 'support@acme.test',
        toAddresses: ['carol@customer.test'],
        subject: 'Re: [#1] Invoice 2026-117 is wrong',
        content: 'Thanks Carol, we are checking the invoice.',
        sentAt: hoursAgo(2),
        createdAt: hoursAgo(2),
      },
      {
        ...base,
        messageId: '<r2@acme.test>',
        direction: 'outbound',
        status: 'failed',
        kind: 'reply',
        fromAddress: 'support@acme.test',
        toAddresses: ['old-address@customer.test'],
        subject: 'Re: [#1] Invoice 2026-117 is wrong',
        content: 'Copy for your accounts team.',
        failureReason: '550 5.1.1 <old-address@customer.test>: Recipient address rejected: User unknown',
        createdAt: hoursAgo(1),
      },
    ]);

    // From here on an agent works the ticket.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await signIn(page, api, agent, `/tickets/${ticketId}`);
    await page.getByRole('heading', { level: 1, name: /Invoice 2026-117 is wrong/ }).waitFor();
    await thread().locator(':scope > li').first().waitFor();
    assert.deepEqual(
      await thread()
        .locator(':scope > li')
        .evaluateAll((lis) => lis.map((li) => li.getAttribute('aria-label'))),
      [
        'Received email from carol@customer.test',
        'Sent email from support@acme.test',
        'Sent email from support@acme.test',
      ],
    );

    const received = thread().getByRole('listitem', { name: 'Received email from carol@customer.test' });
    assert.deepEqual(
      (await received.getByRole('list', { name: 'Sender authentication' }).getByRole('listitem').allTextContents()).map(
        (t) => t.trim(),
      ),
      ['DKIM pass', 'SPF pass', 'DMARC fail'],
    );
    await received.getByText(/Failed DMARC:.*may be forged/).waitFor();
    await received.getByText('dave@customer.test').waitFor();
    const files = received.getByRole('list', { name: 'Attached files' });
    await files.getByRole('link', { name: 'Download invoice-lines.txt' }).waitFor();
    assert.equal(
      (await received.getByRole('list', { name: 'Refused attachments' }).textContent())?.trim(),
      'setup.exe (47 KB) was not stored: this looks like a Windows program; not allowed',
    );

    const [, sent, failed] = await thread().locator(':scope > li').all();
    assert.match((await sent!.textContent()) ?? '', /Sent/);
    assert.equal(
      (await failed!.getByRole('alert').textContent())?.trim(),
      'Failed Not delivered: 550 5.1.1 <old-address@customer.test>: Recipient address rejected: User unknown',
    );
    await screenshot(page, 'thread');
  });

  it('expands the quoted text on request, and shows the HTML only in a sandbox that runs and loads nothing', async () => {
    const received = thread().getByRole('listitem', { name: 'Received email from carol@customer.test' });
    const text = received.locator('.email-text');
    assert.doesNotMatch((await text.textContent()) ?? '', /wrote:/);
    const toggle = received.getByRole('button', { name: 'Show quoted text' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    await received.getByText(/> Please find your invoice attached\./).waitFor();
    assert.equal(
      await received.getByRole('button', { name: 'Hide quoted text' }).getAttribute('aria-expanded'),
      'true',
    );
    await screenshot(page, 'thread-quoted');

    await received.getByRole('button', { name: 'Show formatted' }).click();
    const frame = received.locator('iframe');
    await frame.waitFor();
    assert.equal(await frame.getAttribute('sandbox'), '', 'no script, no same origin, no popups, no forms');
    assert.match((await frame.getAttribute('srcdoc')) ?? '', /Content-Security-Policy" content="default-src 'none'/);
    // Give the frame time to try whatever it would try.
    await page.waitForTimeout(500);
    assert.deepEqual(trackerHits, [], 'the remote image was never requested');
    await screenshot(page, 'thread-formatted');
    await received.getByRole('button', { name: 'Show as text' }).click();
  });

  it('composes rich text to the requester, names a refused CC address, attaches a file and previews the template', async () => {
    await page.getByRole('button', { name: 'Write an email' }).click();
    const form = composer();
    assert.equal(await form.getByLabel('To', { exact: true }).inputValue(), 'carol@customer.test');
    // One upload zone on the page at a time: the composer's.
    assert.equal(await page.getByTestId('file-upload-zone').count(), 1);

    const editor = form.getByRole('textbox', { name: 'Message' });
    await editor.click();
    await page.keyboard.type('Hello Carol,');
    await page.keyboard.press('Enter');
    await page.keyboard.type('the corrected invoice is attached. ');
    await form.getByRole('button', { name: 'Bold' }).click();
    await page.keyboard.type('Please pay the new total');
    await form.getByRole('button', { name: 'Bold' }).click();
    await page.keyboard.type('.');
    await page.keyboard.press('Enter');
    await form.getByRole('button', { name: '• List' }).click();
    await page.keyboard.type('Line 1 was charged twice');
    await page.keyboard.press('Enter');
    await page.keyboard.type('Shipping is free');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.keyboard.type('See our help centre');
    await page.keyboard.press('Shift+Home');
    await form.getByRole('button', { name: 'Link' }).click();
    await form.getByLabel('Link address').fill('help.acme.test/invoices');
    await form.getByRole('button', { name: 'Add link' }).click();

    await form.getByLabel('Cc', { exact: true }).fill('dave@customer.test, not-an-address');
    await form.getByLabel('Choose files to attach').setInputFiles({
      name: 'corrected-invoice.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Invoice 2026-117 (corrected)\nTotal: 1,150.00 EUR\n'),
    });
    await form.getByRole('checkbox', { name: 'corrected-invoice.txt' }).waitFor();
    assert.equal(await form.getByRole('checkbox', { name: 'corrected-invoice.txt' }).isChecked(), true);
    assert.equal(await form.getByRole('checkbox', { name: 'invoice-lines.txt' }).isChecked(), false);

    await form.getByRole('button', { name: 'Preview' }).click();
    await form.getByText('Please correct the fields marked above.').waitFor();
    assert.match((await errorOf(form.getByLabel('Cc', { exact: true }))) ?? '', /^not-an-address: /);
    await screenshot(page, 'composer-errors');

    await form.getByLabel('Cc', { exact: true }).fill('dave@customer.test');
    await form.getByRole('button', { name: 'Preview' }).click();
    const preview = form.getByRole('region', { name: 'Preview' });
    await preview.waitFor();
    assert.deepEqual(await preview.locator('dd').allTextContents(), [
      'support@acme.test',
      'carol@customer.test',
      'dave@customer.test',
      'Re: [#1] Invoice 2026-117 is wrong',
    ]);
    const frame = preview.locator('iframe[title="Preview of the email"]');
    assert.equal(await frame.getAttribute('sandbox'), '');
    const srcdoc = (await frame.getAttribute('srcdoc')) ?? '';
    assert.match(srcdoc, /<(b|strong)>Please pay the new total<\/(b|strong)>/);
    assert.match(srcdoc, /#3355ff/i, 'the mailbox’s accent colour');
    assert.match(srcdoc, /Acme Ltd · 1 Main Street/, 'the mailbox’s footer');
    await preview.getByText('Plain-text version').click();
    const plain = (await preview.locator('pre').textContent()) ?? '';
    assert.match(plain, /- Line 1 was charged twice\n- Shipping is free/);
    assert.match(plain, /See our help centre \(https:\/\/help\.acme\.test\/invoices\)/);
    await screenshot(page, 'composer-preview');
  });

  it('sends once per composed email, even when the first answer is lost, and shows it queued in the thread', async () => {
    const form = composer();
    const emailsPath = `/api/tickets/${ticketId}/emails`;
    // The first send reaches the server, but its answer never reaches the browser.
    let firstStatus = 0;
    await page.route(`**${emailsPath}`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch();
      firstStatus = response.status();
      await route.abort('connectionreset');
    });
    await form.getByRole('button', { name: 'Send email' }).click();
    await form.getByText(/Could not reach the Switchboard API/).waitFor();
    await page.unroute(`**${emailsPath}`);
    assert.equal(firstStatus, 202, 'the server queued the first attempt');

    // Sending again is the same email (its idempotency key): answered 202 with the first one, not sent twice.
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(emailsPath) && r.request().method() === 'POST'),
      form.getByRole('button', { name: 'Send email' }).click(),
    ]);
    assert.equal(answer.status(), 202);
    await form.getByText(/queued: it goes out in a moment/).waitFor();

    const list = (await agent.fetch('GET', emailsPath)).body.data as {
      status: string;
      direction: string;
      to: string[];
      cc: string[];
      text: string;
      html: string | null;
      attachmentIds: string[];
    }[];
    const composed = list.filter((e) => e.direction === 'outbound' && e.status === 'queued');
    assert.equal(composed.length, 1, 'one email, however often it was sent');
    assert.deepEqual(composed[0]!.to, ['carol@customer.test']);
    assert.deepEqual(composed[0]!.cc, ['dave@customer.test']);
    assert.equal(composed[0]!.attachmentIds.length, 1);
    assert.equal(
      composed[0]!.text,
      'Hello Carol,\nthe corrected invoice is attached. Please pay the new total.\n- Line 1 was charged twice\n' +
        '- Shipping is free\nSee our help centre (https://help.acme.test/invoices)',
    );
    assert.match(composed[0]!.html ?? '', /href="https:\/\/help\.acme\.test\/invoices"/);

    const queued = thread().locator(':scope > li').last();
    await queued.getByText('Queued').waitFor();
    assert.equal(await thread().locator(':scope > li').count(), 4);
    await queued.getByText('corrected-invoice.txt').waitFor();
    // The composer starts a new, empty email.
    assert.equal((await form.getByRole('textbox', { name: 'Message' }).textContent())?.trim(), '');
    await screenshot(page, 'composer-queued');
  });

  it('lists held and refused mail for agents, and discards a held message for good', async () => {
    const base = { organizationId: admin.organizationId, integrationId: mailboxId, via: 'webhook' };
    const failing: EmailAuthResults = {
      dkim: 'fail',
      spf: 'softfail',
      dmarc: 'fail',
      arc: null,
      dmarcPolicy: 'reject',
      dkimDomains: [],
      spfDomain: 'paypa1.test',
    };
    await api.deps.db.insert(emailInbound).values([
      {
        ...base,
        messageId: '<h1@paypa1.test>',
        status: 'held' as const,
        reason: 'failed DMARC (the mailbox holds such mail for review)',
        fromAddress: 'security@paypa1.test',
        subject: 'Your account is locked',
        sizeBytes: 5120,
        authResults: failing,
        receivedAt: hoursAgo(2),
      },
      {
        ...base,
        messageId: '<h2@customer.test>',
        status: 'held' as const,
        reason: 'failed DMARC (the mailbox holds such mail for review)',
        fromAddress: 'erin@customer.test',
        subject: 'Forwarded: delivery note',
        sizeBytes: 20_480,
        authResults: { ...failing, spf: 'pass', spfDomain: 'customer.test' },
        receivedAt: hoursAgo(1),
      },
      {
        ...base,
        messageId: '<x1@elsewhere.test>',
        status: 'refused' as const,
        reason: 'the message is larger than the mailbox limit (25 MB)',
        fromAddress: 'frank@elsewhere.test',
        subject: 'Scans of all our invoices',
        sizeBytes: 31_457_280,
        receivedAt: hoursAgo(1),
      },
    ]);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Held mail' }).click();
    const held = page.getByRole('list', { name: 'Held mail' });
    await held.waitFor();
    assert.deepEqual(
      await held.locator(':scope > li h3').allTextContents(),
      ['Forwarded: delivery note', 'Your account is locked'],
      'newest first',
    );
    const locked = held.getByRole('listitem', { name: 'Your account is locked' });
    await locked.getByText('Support mailbox').waitFor();
    await screenshot(page, 'held');

    await locked.getByRole('button', { name: 'Discard' }).click();
    await locked.getByText('Discard for good?').waitFor();
    await locked.getByRole('button', { name: 'Discard', exact: true }).click();
    await page.getByText('Discarded “Your account is locked”.').waitFor();
    await locked.waitFor({ state: 'detached' });
    assert.deepEqual(await held.locator(':scope > li h3').allTextContents(), ['Forwarded: delivery note']);
    const [row] = await api.deps.db
      .select({ status: emailInbound.status, decidedBy: emailInbound.decidedBy })
      .from(emailInbound)
      .where(eq(emailInbound.messageId, '<h1@paypa1.test>'));
    assert.deepEqual(row, { status: 'discarded', decidedBy: agent.userId });

    await page.getByRole('tab', { name: 'Refused' }).click();
    const refused = page.getByRole('list', { name: 'Refused mail' });
    await refused.getByText('the message is larger than the mailbox limit (25 MB)').waitFor();
    assert.equal(await refused.getByRole('button').count(), 0, 'refused mail has nothing to decide');
    await screenshot(page, 'refused');
  });
});
