// The notification channels (issue 13) against the real servers: email through OpenSMTPD into Dovecot, read back
// over IMAP; Slack against the strict local Slack (posts, DMs, 429, a revoked token, the "Acknowledge" button
// clicked through its signed interactivity request); webhooks into the webhook module's tables and, through the
// endpoint's own delivery workflow, to a receiver. And the email's acknowledgement link, as a mail client and a
// mail scanner would use it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notificationAlerts, webhookDeliveries, webhookMessages } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { eq, inArray } from 'drizzle-orm';
import express from 'express';
import { loopHeaderValue } from '../activities/email/send.ts';
import { NO_MAILBOX_REASON, sendEmailNotification } from '../activities/notifications/channels/email.ts';
import { sendSlackNotification } from '../activities/notifications/channels/slack.ts';
import type {
  ChannelDeps,
  NotificationItem,
  NotificationRecipientInfo,
  OutgoingNotification,
} from '../activities/notifications/channels/types.ts';
import { sendWebhookNotification } from '../activities/notifications/channels/webhook.ts';
import { notificationAcknowledgeRouter } from '../api/routes/notification-acknowledge.ts';
import { alertAckToken, readAlertAckToken } from '../domain/notifications/alerts.ts';
import { createMailbox, headerOf, readInbox } from './email-support.ts';
import { createSlackFake } from './fakes/slack/server.ts';
import { type Receiver, startReceiver } from './receivers/webhook-receiver.ts';
import { freshWorkspace, type SlackFake, useSlackApprover, useSlackEnv } from './slack-support.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { addMailUser, ensureMailServices } from './support/mail-services.ts';
import { eventually, type RunningWorker, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

const PASSWORD = 'notify-test-password';
const { db } = testDatabase();

let nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000);
function item(overrides: Partial<NotificationItem> = {}): NotificationItem {
  return {
    id: nextId++,
    eventType: 'ticket.created',
    severity: 'normal',
    title: 'New ticket #1 Printer on fire',
    body: 'Priority urgent, from email.',
    link: 'http://127.0.0.1/tickets/00000000-0000-4000-8000-000000000001',
    ticketId: null,
    alertId: null,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

async function insertAlert(organizationId: string): Promise<string> {
  const [row] = await db
    .insert(notificationAlerts)
    .values({
      organizationId,
      eventId: nextId++,
      escalateAt: new Date(Date.now() + 15 * 60_000),
      escalation: { afterMinutes: 15, recipients: [{ kind: 'role', role: 'admin' }] },
    })
    .returning({ id: notificationAlerts.id });
  return row!.id;
}

async function alertRow(id: string) {
  const [row] = await db.select().from(notificationAlerts).where(eq(notificationAlerts.id, id));
  return row!;
}

/** What the dispatcher hands a sender. */
function outgoing(
  organizationId: string,
  recipient: NotificationRecipientInfo,
  items: NotificationItem[],
  extra: Partial<OutgoingNotification> = {},
): OutgoingNotification {
  return { organizationId, recipient, digest: false, items, webhookEndpointId: null, ...extra };
}

const userRecipient = (
  u: TestUser,
  name: string | null = 'Ada Lovelace',
): Extract<NotificationRecipientInfo, { kind: 'user' }> => ({
  kind: 'user',
  key: u.userId,
  userId: u.userId,
  email: u.email,
  name,
});

async function rejectsRetryably(promise: Promise<unknown>, type?: string): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `an ApplicationFailure, not ${String(error)}`);
    assert.notEqual(error.nonRetryable, true, 'retryable');
    if (type) assert.equal(error.type, type);
    return error;
  }
  assert.fail('the send should have thrown (to be retried)');
}

describe('notification channels', function () {
  this.timeout(120_000);
  let api: TestApi;
  let slack: SlackFake;
  let restoreEnv: () => void;
  let deps: ChannelDeps;
  let queue: string;

  before(async () => {
    await ensureMailServices();
    slack = await createSlackFake();
    restoreEnv = useSlackEnv(slack);
    useSlackApprover(slack);
    queue = uniqueTaskQueue('notify-channels');
    const temporal = await testTemporal();
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    slack.setRequestUrl(`${api.baseUrl}/api/slack/events`);
    deps = {
      db,
      config: api.deps.config,
      logger: api.deps.logger,
      temporal: temporal.client,
      ticketsTaskQueue: queue,
      publicUrl: api.baseUrl,
    };
  });
  after(async () => {
    await api?.close();
    await slack?.close();
    restoreEnv?.();
  });

  describe('email', () => {
    let admin: TestUser;
    let support: string;
    let integrationId: string;

    before(async () => {
      const run = randomUUID().slice(0, 8);
      admin = await createTestOrganization({ role: 'admin', email: `ada-${run}@pass.test` });
      support = `notify-${run}@support.test`;
      await addMailUser(admin.email, PASSWORD);
      integrationId = await createMailbox(admin, { address: support, password: PASSWORD, config: { imap: null } });
    });

    it('sends one mail per item, machine-marked with our loop header, escaped, with an Acknowledge link on an alert', async () => {
      const alertId = await insertAlert(admin.organizationId);
      const plain = item({ title: 'Ticket <b>#7</b> & "friends"', body: 'Ana wrote: <script>alert(1)</script>' });
      const alert = item({ severity: 'critical', title: 'SLA breached on #7', body: 'Due 10:00', alertId });
      const outcomes = await sendEmailNotification(
        deps,
        outgoing(admin.organizationId, userRecipient(admin), [plain, alert]),
      );
      assert.deepEqual(outcomes, [
        { id: plain.id, ok: true },
        { id: alert.id, ok: true },
      ]);

      const mails = await eventually(
        async () => {
          const inbox = await readInbox(admin.email, PASSWORD);
          assert.equal(inbox.length, 2, `2 mails, found ${inbox.length}`);
          return inbox;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      const first = mails.find((m) => m.subject.includes('#7') && !m.subject.includes('Critical'))!;
      const critical = mails.find((m) => m.subject.startsWith('[Critical]'))!;
      assert.ok(first && critical, mails.map((m) => m.subject).join(' | '));
      for (const mail of mails) {
        assert.equal(headerOf(mail.headers, 'Auto-Submitted'), 'auto-generated');
        assert.equal(headerOf(mail.headers, 'X-Auto-Response-Suppress'), 'All');
        assert.equal(headerOf(mail.headers, 'X-Switchboard-Loop'), loopHeaderValue(integrationId));
        assert.match(headerOf(mail.headers, 'From') ?? '', new RegExp(support.replace('.', '\\.')));
      }
      assert.match(
        headerOf(first.headers, 'Message-ID') ?? '',
        new RegExp(`^<notification-${plain.id}@support\\.test>$`),
      );

      const source = first.source.toString('utf8');
      const html = decodedHtml(source);
      assert.ok(html.includes('Ticket &lt;b&gt;#7&lt;/b&gt; &amp; &quot;friends&quot;'), 'the title is escaped');
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the body is escaped');
      assert.ok(!html.includes('<script>'), 'no markup of the user gets through');
      assert.ok(!html.includes('Acknowledge'), 'no Acknowledge link on a normal item');

      const criticalHtml = decodedHtml(critical.source.toString('utf8'));
      const href = /href="([^"]*acknowledge[^"]*)"/.exec(criticalHtml)?.[1];
      assert.ok(href, 'the alert carries an Acknowledge link');
      const url = new URL(href.replace(/&amp;/g, '&'));
      assert.equal(url.origin + url.pathname, `${api.baseUrl}/api/notifications/acknowledge`);
      assert.deepEqual(readAlertAckToken(api.deps.config.authSecret, url.searchParams.get('token')!), {
        organizationId: admin.organizationId,
        alertId,
        userId: admin.userId,
      });
    });

    it('sends a digest as one mail listing every item', async () => {
      const address = `digest-${randomUUID().slice(0, 8)}@pass.test`;
      await addMailUser(address, PASSWORD);
      const items = [item({ title: 'First thing' }), item({ title: 'Second <thing>' }), item({ title: 'Third thing' })];
      const outcomes = await sendEmailNotification(
        deps,
        outgoing(admin.organizationId, { ...userRecipient(admin), email: address }, items, { digest: true }),
      );
      assert.deepEqual(
        outcomes,
        items.map((i) => ({ id: i.id, ok: true })),
      );
      const [mail] = await eventually(
        async () => {
          const inbox = await readInbox(address, PASSWORD);
          assert.equal(inbox.length, 1);
          return inbox;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      assert.match(mail!.subject, /^Digest: 3 notifications/);
      const html = decodedHtml(mail!.source.toString('utf8'));
      for (const title of ['First thing', 'Second &lt;thing&gt;', 'Third thing'])
        assert.ok(html.includes(title), title);
    });

    it('fails for good when the organisation has no mailbox that can send, or the server refuses the recipient (5xx)', async () => {
      const other = await createTestOrganization({ role: 'admin' });
      const one = item();
      assert.deepEqual(await sendEmailNotification(deps, outgoing(other.organizationId, userRecipient(other), [one])), [
        { id: one.id, ok: false, reason: NO_MAILBOX_REASON, permanent: true },
      ]);

      // OpenSMTPD answers 550 at RCPT TO for an address it has no mailbox for.
      const unknown = item();
      const [outcome] = await sendEmailNotification(
        deps,
        outgoing(admin.organizationId, { ...userRecipient(admin), email: `nobody-${randomUUID()}@pass.test` }, [
          unknown,
        ]),
      );
      assert.equal(outcome!.ok, false);
      assert.equal((outcome as { permanent: boolean }).permanent, true);
      assert.match((outcome as { reason: string }).reason, /refused/);
    });

    it('throws (to be retried) when the mail server cannot be reached', async () => {
      const lonely = await createTestOrganization({ role: 'admin' });
      await createMailbox(lonely, {
        address: `down-${randomUUID().slice(0, 8)}@support.test`,
        password: PASSWORD,
        // Nothing listens on port 9 of loopback: connection refused.
        config: { imap: null, smtp: { host: '127.0.0.1', port: 9, security: 'none' } },
      });
      const failure = await rejectsRetryably(
        sendEmailNotification(deps, outgoing(lonely.organizationId, userRecipient(lonely), [item()])),
        'MailSendError',
      );
      assert.match(failure.message, /connection refused/);
    });
  });

  describe('Slack', () => {
    let ws: Awaited<ReturnType<typeof freshWorkspace>>;
    const channelRecipient = (): NotificationRecipientInfo => ({
      kind: 'slack_channel',
      key: `slack:${ws.integrationId}:${ws.channel}`,
      integrationId: ws.integrationId,
      channelId: ws.channel,
    });
    const posted = (channelId: string) =>
      slack.callsTo('chat.postMessage').filter((c) => c.ok && (c.response.channel as string) === channelId);

    before(async () => {
      ws = await freshWorkspace(api, slack, 'N', ['new_ticket']);
    });
    afterEach(() => {
      slack.clearFailures();
      slack.assertNoRejectedCalls();
    });

    it('posts into the rule’s channel: title and body escaped, a dashboard button, and Acknowledge on an alert', async () => {
      const alertId = await insertAlert(ws.admin.organizationId);
      const one = item({
        severity: 'critical',
        title: 'SLA breached <!channel> & co',
        body: 'Ask <@U0ADA00001> about <https://evil.test|this>',
        alertId,
      });
      const before = posted(ws.channel).length;
      assert.deepEqual(
        await sendSlackNotification(deps, outgoing(ws.admin.organizationId, channelRecipient(), [one])),
        [{ id: one.id, ok: true }],
      );
      const calls = posted(ws.channel);
      assert.equal(calls.length, before + 1);
      const message = slack.messages(ws.channel).at(-1)!;
      const json = JSON.stringify(message.blocks);
      assert.ok(message.text?.includes('SLA breached &lt;!channel&gt; &amp; co'), message.text);
      assert.ok(json.includes('Ask &lt;@U0ADA00001&gt; about &lt;https://evil.test|this&gt;'), json);
      assert.ok(!json.includes('<!channel>') && !json.includes('<@U0ADA00001>'), 'no mention gets through');
      const actions = message.blocks!.find((b) => (b as { type: string }).type === 'actions') as {
        elements: Array<Record<string, unknown>>;
      };
      assert.deepEqual(
        actions.elements.map((e) => [e.action_id, e.url ?? e.value]),
        [
          ['notification_open', one.link],
          ['notification_acknowledge', alertId],
        ],
      );
    });

    it('sends a member a DM, found by their email', async () => {
      const one = item({ title: 'You were assigned #9' });
      assert.deepEqual(
        await sendSlackNotification(deps, outgoing(ws.admin.organizationId, userRecipient(ws.admin), [one])),
        [{ id: one.id, ok: true }],
      );
      const dm = slack.callsTo('conversations.open').at(-1)!.response.channel as { id: string };
      const message = slack.messages(dm.id).at(-1)!;
      assert.equal(message.text, 'You were assigned #9');
      assert.equal(slack.callsTo('users.lookupByEmail').at(-1)!.args.email, ws.admin.email);
    });

    it('posts a digest as one message listing every item', async () => {
      const items = [item({ title: 'One' }), item({ title: 'Two', link: null }), item({ title: 'Three' })];
      const before = posted(ws.channel).length;
      const outcomes = await sendSlackNotification(
        deps,
        outgoing(ws.admin.organizationId, channelRecipient(), items, { digest: true }),
      );
      assert.deepEqual(
        outcomes,
        items.map((i) => ({ id: i.id, ok: true })),
      );
      assert.equal(posted(ws.channel).length, before + 1, 'one message');
      const message = slack.messages(ws.channel).at(-1)!;
      assert.equal(message.text, 'Your digest: 3 notifications');
      const text = JSON.stringify(message.blocks);
      for (const title of ['One', 'Two', 'Three'])
        assert.ok(text.includes(`*${title}`) || text.includes(`|${title}>`), title);
    });

    it('fails for good for a person without a Slack account, another organisation’s installation, a revoked token', async () => {
      const stranger = await createTestOrganization({ role: 'admin' });
      const nobody = item();
      const [noAccount] = await sendSlackNotification(
        deps,
        outgoing(ws.admin.organizationId, { ...userRecipient(ws.admin), email: 'nobody@nowhere.test' }, [nobody]),
      );
      assert.deepEqual(noAccount, {
        id: nobody.id,
        ok: false,
        reason: `the member has no Slack account with their email address in Team N${ws.team.slice(3)}`,
        permanent: true,
      });

      const theirs = item();
      const [foreign] = await sendSlackNotification(
        deps,
        outgoing(stranger.organizationId, channelRecipient(), [theirs]),
      );
      assert.equal(foreign!.ok, false);
      assert.match((foreign as { reason: string }).reason, /installation this rule posts to was removed/);
      assert.deepEqual(
        await sendSlackNotification(deps, outgoing(stranger.organizationId, userRecipient(stranger), [theirs])),
        [{ id: theirs.id, ok: false, reason: 'no Slack workspace is connected to this organisation', permanent: true }],
      );

      // A second workspace whose token Slack revoked: the post fails for good and the workspace is disconnected.
      const revoked = await freshWorkspace(api, slack, 'R', ['new_ticket']);
      slack.revokeTokens(revoked.team);
      const lost = item();
      const [outcome] = await sendSlackNotification(
        deps,
        outgoing(
          revoked.admin.organizationId,
          {
            kind: 'slack_channel',
            key: 'x',
            integrationId: revoked.integrationId,
            channelId: revoked.channel,
          },
          [lost],
        ),
      );
      assert.equal(outcome!.ok, false);
      assert.match((outcome as { reason: string }).reason, /token_revoked/);
      const installations = await revoked.admin.fetch('GET', '/api/slack/installations');
      assert.equal(installations.body.data[0].connected, false);
    });

    it('throws with Slack’s Retry-After on a 429, and posts once the retry comes', async () => {
      slack.failNext('chat.postMessage', { error: 'ratelimited', retryAfter: 7 });
      const one = item({ title: 'Rate limited once' });
      const failure = await rejectsRetryably(
        sendSlackNotification(deps, outgoing(ws.admin.organizationId, channelRecipient(), [one])),
        'SlackRateLimited',
      );
      assert.equal(failure.nextRetryDelay, 7000);
      assert.deepEqual(
        await sendSlackNotification(deps, outgoing(ws.admin.organizationId, channelRecipient(), [one])),
        [{ id: one.id, ok: true }],
      );
      assert.equal(slack.messages(ws.channel).filter((m) => m.text === 'Rate limited once').length, 1);
    });

    describe('the Acknowledge button', () => {
      async function postAlert(organizationId: string, alertId: string) {
        const one = item({ severity: 'critical', title: `Alert ${alertId.slice(0, 8)}`, alertId });
        await sendSlackNotification(deps, outgoing(organizationId, channelRecipient(), [one]));
        return slack
          .messages(ws.channel)
          .filter((m) => m.text === `Critical: Alert ${alertId.slice(0, 8)}`)
          .at(-1)!;
      }

      it('acknowledges the alert as the member the Slack user is, and the message says so', async () => {
        const alertId = await insertAlert(ws.admin.organizationId);
        const message = await postAlert(ws.admin.organizationId, alertId);
        const click = await slack.blockAction({
          userId: ws.user,
          channelId: ws.channel,
          messageTs: message.ts,
          actionId: 'notification_acknowledge',
        });
        assert.equal(click.status, 200, click.body);
        assert.ok(click.elapsedMs < 3000, `answered in ${click.elapsedMs} ms`);
        const row = await alertRow(alertId);
        assert.ok(row.acknowledgedAt, 'acknowledged');
        assert.equal(row.acknowledgedBy, ws.admin.userId);

        const updated = await eventually(async () => {
          const [post] = slack.responses(click.responseUrl!);
          assert.ok(post, 'the message was answered');
          return post;
        });
        assert.equal(updated.body.replace_original, true);
        const after = slack.store.message(ws.channel, message.ts)!;
        const json = JSON.stringify(after.blocks);
        assert.ok(json.includes('Acknowledged by'), json);
        assert.ok(!json.includes('notification_acknowledge'), 'the button is gone');
        assert.ok(json.includes('notification_open'), 'the dashboard button stays');

        // Someone clicking an older copy of the button: told who was first, the row unchanged.
        const again = await slack.blockAction({
          userId: ws.user,
          channelId: ws.channel,
          messageTs: (await postAlert(ws.admin.organizationId, alertId)).ts,
          actionId: 'notification_acknowledge',
        });
        assert.equal(again.status, 200);
        const told = await eventually(async () => {
          const [post] = slack.responses(again.responseUrl!);
          assert.ok(post);
          return post;
        });
        assert.equal(told.body.response_type, 'ephemeral');
        assert.match(String(told.body.text), /^Already acknowledged by /);
        assert.equal((await alertRow(alertId)).acknowledgedAt?.getTime(), row.acknowledgedAt.getTime());
      });

      it('refuses someone who is not an agent or admin of the organisation, and changes nothing', async () => {
        const alertId = await insertAlert(ws.admin.organizationId);
        const message = await postAlert(ws.admin.organizationId, alertId);
        const guest = slack.store.addUser(ws.team, { name: 'guest', email: `guest-${randomUUID()}@elsewhere.test` });
        const click = await slack.blockAction({
          userId: guest.id,
          channelId: ws.channel,
          messageTs: message.ts,
          actionId: 'notification_acknowledge',
        });
        assert.equal(click.status, 200);
        const told = await eventually(async () => {
          const [post] = slack.responses(click.responseUrl!);
          assert.ok(post);
          return post;
        });
        assert.equal(told.body.response_type, 'ephemeral');
        assert.match(String(told.body.text), /Only an agent or an admin/);
        assert.equal((await alertRow(alertId)).acknowledgedAt, null);
      });

      it('refuses another organisation’s alert', async () => {
        const stranger = await createTestOrganization({ role: 'admin' });
        const theirAlert = await insertAlert(stranger.organizationId);
        // A message in this organisation's workspace that names the other organisation's alert.
        const message = await postAlert(ws.admin.organizationId, theirAlert);
        const click = await slack.blockAction({
          userId: ws.user,
          channelId: ws.channel,
          messageTs: message.ts,
          actionId: 'notification_acknowledge',
        });
        assert.equal(click.status, 200);
        assert.equal((await alertRow(theirAlert)).acknowledgedAt, null, 'not acknowledged');
        const told = await eventually(async () => {
          const [post] = slack.responses(click.responseUrl!);
          assert.ok(post);
          return post;
        });
        assert.match(String(told.body.text), /not found/);
      });
    });
  });

  describe('webhook', () => {
    let admin: TestUser;
    let receiver: Receiver;
    let worker: RunningWorker;
    let endpointId: string;

    before(async () => {
      receiver = await startReceiver();
      admin = await createTestOrganization({ role: 'admin' });
      const created = await admin.fetch('POST', '/api/webhooks/endpoints', {
        url: receiver.url('/notify'),
        description: 'Notifications',
        eventTypes: ['ticket.created'],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      endpointId = created.body.endpoint.id;
    });
    after(async () => {
      await worker?.stop();
      await receiver?.close();
    });

    const messagesOf = (ids: string[]) => db.select().from(webhookMessages).where(inArray(webhookMessages.id, ids));

    it('enqueues one message per item for the rule’s endpoint, once however often it is sent, with the body', async () => {
      const alertId = await insertAlert(admin.organizationId);
      const items = [item({ ticketId: randomUUID() }), item({ severity: 'critical', alertId })];
      const notification = outgoing(admin.organizationId, userRecipient(admin), items, {
        webhookEndpointId: endpointId,
      });
      const ok = items.map((i) => ({ id: i.id, ok: true }));
      assert.deepEqual(await sendWebhookNotification(deps, notification), ok);
      // An activity retry hands over the same items: nothing new.
      assert.deepEqual(await sendWebhookNotification(deps, notification), ok);

      const ids = items.map((i) => `msg_notif_${i.id}`);
      const messages = await messagesOf(ids);
      assert.equal(messages.length, 2);
      const first = messages.find((m) => m.id === ids[0])!;
      assert.equal(first.eventType, 'notification');
      assert.equal(first.eventId, null);
      assert.equal(first.ticketId, items[0]!.ticketId);
      assert.deepEqual(first.payload, {
        type: 'notification',
        timestamp: items[0]!.createdAt,
        data: {
          recipient: { kind: 'user', userId: admin.userId, email: admin.email, name: 'Ada Lovelace' },
          notificationId: items[0]!.id,
          eventType: 'ticket.created',
          severity: 'normal',
          title: items[0]!.title,
          body: items[0]!.body,
          link: items[0]!.link,
          ticketId: items[0]!.ticketId,
          alertId: null,
          createdAt: items[0]!.createdAt,
        },
      });
      const deliveries = await db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.messageId, ids));
      assert.equal(deliveries.length, 2);
      assert.ok(deliveries.every((d) => d.endpointId === endpointId));

      // The endpoint's own delivery workflow sends them, signed, with the message id as webhook-id.
      worker = await (await testTemporal()).startWebhooksWorker({ db, ticketsTaskQueue: queue });
      await sendWebhookNotification(deps, notification); // the wake, now that a worker listens
      await eventually(
        async () => {
          const got = receiver.requestsTo('/notify').map((r) => r.headers['webhook-id']);
          for (const id of ids) assert.ok(got.includes(id), `${id} delivered (got ${got.join(', ')})`);
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const delivered = receiver.requestsTo('/notify').find((r) => r.headers['webhook-id'] === ids[1])!;
      assert.ok(delivered.headers['webhook-signature'], 'signed');
      assert.equal(JSON.parse(delivered.body).data.alertId, alertId);
    });

    it('enqueues a digest as one notification.digest message', async () => {
      const items = [item({ title: 'a' }), item({ title: 'b' }), item({ title: 'c' })];
      const outcomes = await sendWebhookNotification(
        deps,
        outgoing(admin.organizationId, userRecipient(admin), items, { digest: true, webhookEndpointId: endpointId }),
      );
      assert.deepEqual(
        outcomes,
        items.map((i) => ({ id: i.id, ok: true })),
      );
      const [message] = await messagesOf([`msg_notif_digest_${items[0]!.id}`]);
      assert.ok(message);
      assert.equal(message.eventType, 'notification.digest');
      const data = (message.payload as { data: { count: number; items: Array<{ title: string }> } }).data;
      assert.equal(data.count, 3);
      assert.deepEqual(
        data.items.map((i) => i.title),
        ['a', 'b', 'c'],
      );
    });

    it('fails for good without an endpoint of the organisation that is switched on', async () => {
      const stranger = await createTestOrganization({ role: 'admin' });
      const one = item();
      const theirs = await sendWebhookNotification(
        deps,
        outgoing(stranger.organizationId, userRecipient(stranger), [one], { webhookEndpointId: endpointId }),
      );
      assert.deepEqual(theirs, [
        { id: one.id, ok: false, reason: 'the webhook endpoint of this rule was deleted', permanent: true },
      ]);
      assert.equal((await messagesOf([`msg_notif_${one.id}`])).length, 0, 'nothing enqueued for another organisation');

      const off = await admin.fetch('POST', '/api/webhooks/endpoints', {
        url: receiver.url('/off'),
        eventTypes: ['ticket.created'],
      });
      const disable = await admin.fetch('PATCH', `/api/webhooks/endpoints/${off.body.endpoint.id}`, { enabled: false });
      assert.equal(disable.status, 200, JSON.stringify(disable.body));
      const [outcome] = await sendWebhookNotification(
        deps,
        outgoing(admin.organizationId, userRecipient(admin), [one], { webhookEndpointId: off.body.endpoint.id }),
      );
      assert.equal(outcome!.ok, false);
      assert.match((outcome as { reason: string }).reason, /switched off/);
    });
  });

  describe('the email’s acknowledgement link', () => {
    let server: Server;
    let base: string;
    let admin: TestUser;

    before(async () => {
      const app = express();
      app.use(notificationAcknowledgeRouter(api.deps));
      server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/notifications/acknowledge`;
      admin = await createTestOrganization({ role: 'admin', userName: 'Ada <Lovelace>' });
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const post = (token: string) =>
      fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });

    it('answers 400 to a missing or altered token, changing nothing', async () => {
      const alertId = await insertAlert(admin.organizationId);
      const token = alertAckToken(api.deps.config.authSecret, admin.organizationId, alertId, admin.userId);
      const other = alertAckToken(api.deps.config.authSecret, admin.organizationId, randomUUID(), admin.userId);
      const forged = `${token.split('.')[0]}.${other.split('.')[1]}`;
      for (const response of [
        await fetch(base),
        await fetch(`${base}?token=nonsense`),
        await fetch(`${base}?token=${encodeURIComponent(forged)}`),
        await post(forged),
        await post(''),
      ]) {
        assert.equal(response.status, 400);
        assert.match(response.headers.get('content-type') ?? '', /text\/html/);
        assert.match(await response.text(), /not valid/);
      }
      assert.equal((await alertRow(alertId)).acknowledgedAt, null);
    });

    it('GET only shows a button; POST acknowledges; a second POST says who already did', async () => {
      const alertId = await insertAlert(admin.organizationId);
      const token = alertAckToken(api.deps.config.authSecret, admin.organizationId, alertId, admin.userId);
      const shown = await fetch(`${base}?token=${encodeURIComponent(token)}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.headers.get('cache-control'), 'no-store');
      assert.equal(shown.headers.get('referrer-policy'), 'no-referrer');
      const page = await shown.text();
      assert.match(page, /<form method="post" action="\/api\/notifications\/acknowledge">/);
      assert.ok(page.includes(`value="${token}"`));
      assert.equal((await alertRow(alertId)).acknowledgedAt, null, 'a GET (a mail scanner) changes nothing');

      const done = await post(token);
      assert.equal(done.status, 200);
      assert.match(await done.text(), /<h1[^>]*>Acknowledged<\/h1>/);
      const row = await alertRow(alertId);
      assert.ok(row.acknowledgedAt);
      assert.equal(row.acknowledgedBy, admin.userId);

      const again = await post(token);
      assert.equal(again.status, 200);
      const text = await again.text();
      assert.ok(text.includes('Already acknowledged by Ada &lt;Lovelace&gt;'), text);
      const shownAfter = await (await fetch(`${base}?token=${encodeURIComponent(token)}`)).text();
      assert.ok(shownAfter.includes('Already acknowledged by Ada &lt;Lovelace&gt;'));
      assert.ok(!shownAfter.includes('<form'), 'no button once acknowledged');
    });

    it('answers 404 for an alert that is gone, and 403 for a member who left', async () => {
      const alertId = await insertAlert(admin.organizationId);
      const gone = alertAckToken(api.deps.config.authSecret, admin.organizationId, randomUUID(), admin.userId);
      assert.equal((await post(gone)).status, 404);
      const left = alertAckToken(api.deps.config.authSecret, admin.organizationId, alertId, 'not-a-member');
      assert.equal((await post(left)).status, 403);
      assert.equal((await fetch(`${base}?token=${encodeURIComponent(left)}`)).status, 403);
      // A viewer may see the alert, not cancel its escalation (as in the dashboard).
      const viewer = await addTestMember(admin.organizationId, { role: 'viewer' });
      const viewers = alertAckToken(api.deps.config.authSecret, admin.organizationId, alertId, viewer.userId);
      assert.equal((await post(viewers)).status, 403);
      assert.equal((await alertRow(alertId)).acknowledgedAt, null);
    });
  });
});

/** The HTML part of a raw MIME message, quoted-printable decoded. */
function decodedHtml(source: string): string {
  const start = source.indexOf('Content-Type: text/html');
  assert.ok(start >= 0, 'an HTML part');
  const part = source.slice(start);
  const bodyStart = part.indexOf('\r\n\r\n') + 4;
  const end = part.indexOf('\r\n--', bodyStart);
  const body = part.slice(bodyStart, end < 0 ? undefined : end);
  if (/Content-Transfer-Encoding: base64/i.test(part.slice(0, bodyStart)))
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/[\u0080-\u00ff]+/g, (bytes) => Buffer.from(bytes, 'latin1').toString('utf8'));
}
