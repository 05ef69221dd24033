// The driver: what the fake sends to the app is signed exactly as Slack signs (checked with Bolt's own verifier),
// carries Slack's payload shapes, and a real Bolt app can be driven end to end through it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, verifySlackRequest } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { createSlackFake, type Delivery, type SlackFake } from './server.ts';

interface Captured {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in for the app's Request URL: records each request and answers with `answer` (default 200, empty). */
async function captureServer(answer: (captured: Captured, res: ServerResponse) => void = (_c, res) => res.end()) {
  const requests: Captured[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const captured = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    requests.push(captured);
    answer(captured, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function verify(slack: SlackFake, delivery: Delivery) {
  verifySlackRequest({
    signingSecret: slack.signingSecret,
    body: delivery.request.body,
    headers: {
      'x-slack-signature': delivery.request.headers['x-slack-signature'] as string,
      'x-slack-request-timestamp': Number(delivery.request.headers['x-slack-request-timestamp']),
    },
  });
}

const payloadOf = (captured: Captured | undefined) =>
  JSON.parse(new URLSearchParams(captured?.body).get('payload') ?? 'null') as Record<string, unknown>;

describe('Slack fake: driver (Slack → app)', () => {
  let slack: SlackFake;
  let app: Awaited<ReturnType<typeof captureServer>>;

  beforeEach(async () => {
    slack = await createSlackFake();
    app = await captureServer();
    slack.setRequestUrl(app.url);
  });
  afterEach(async () => {
    await slack.close();
    await app.close();
  });

  describe('signatures', () => {
    it('signs with v0 HMAC-SHA256 of v0:timestamp:body, which Bolt’s verifySlackRequest accepts', async () => {
      const delivery = await slack.sendEvent({ type: 'app_home_opened', user: 'U0ADA00001', tab: 'home' });
      assert.equal(delivery.status, 200);
      assert.match(delivery.request.headers['x-slack-signature'] ?? '', /^v0=[0-9a-f]{64}$/);
      assert.equal(app.requests[0]?.body, delivery.request.body);
      verify(slack, delivery);
      const timestamp = Number(delivery.request.headers['x-slack-request-timestamp']);
      assert.equal(slack.sign(timestamp, delivery.request.body), delivery.request.headers['x-slack-signature']);
    });

    it('forges bad, missing and stale signatures that Bolt’s verifier refuses', async () => {
      const bad = await slack.sendEvent({ type: 'app_home_opened', user: 'U0ADA00001' }, { signature: 'bad' });
      assert.throws(() => verify(slack, bad), /signature mismatch/);
      const stale = await slack.sendEvent({ type: 'app_home_opened', user: 'U0ADA00001' }, { signature: 'stale' });
      assert.throws(() => verify(slack, stale), /stale/);
      assert.equal(
        slack.sign(Number(stale.request.headers['x-slack-request-timestamp']), stale.request.body),
        stale.request.headers['x-slack-signature'],
        'a stale request is correctly signed, only old',
      );
      const missing = await slack.sendEvent({ type: 'app_home_opened', user: 'U0ADA00001' }, { signature: 'missing' });
      assert.equal(missing.request.headers['x-slack-signature'], undefined);
      assert.throws(() => verify(slack, missing));
    });

    it('replays a delivery byte for byte', async () => {
      const first = await slack.slashCommand({
        command: '/ticket',
        text: 'new',
        userId: 'U0ADA00001',
        channelId: 'C0SUPPORT1',
      });
      const again = await slack.slashCommand(
        { command: '/ticket', text: 'new', userId: 'U0ADA00001', channelId: 'C0SUPPORT1' },
        { replayOf: first },
      );
      assert.deepEqual(again.request, first.request);
      assert.equal(app.requests[1]?.body, app.requests[0]?.body);
      assert.equal(app.requests[1]?.headers['x-slack-signature'], app.requests[0]?.headers['x-slack-signature']);
    });
  });

  describe('Events API', () => {
    it('wraps events in Slack’s event_callback envelope, and marks retries of the same event_id', async () => {
      const first = await slack.sendEvent({ type: 'app_home_opened', user: 'U0ADA00001', tab: 'home' });
      const envelope = JSON.parse(first.request.body);
      assert.equal(envelope.type, 'event_callback');
      assert.equal(envelope.team_id, 'T0ACME001');
      assert.equal(envelope.api_app_id, slack.appId);
      assert.equal(envelope.token, slack.verificationToken);
      assert.match(envelope.event_id, /^Ev[A-Z0-9]{9}$/);
      assert.equal(typeof envelope.event_time, 'number');
      assert.deepEqual(envelope.authorizations, [
        {
          enterprise_id: null,
          team_id: 'T0ACME001',
          user_id: 'U0BOTACME1',
          is_bot: true,
          is_enterprise_install: false,
        },
      ]);
      assert.equal(envelope.is_ext_shared_channel, false);
      assert.match(envelope.event_context, /^4-/);
      assert.match(envelope.event.event_ts, /^\d{10}\.\d{6}$/);
      assert.equal(first.request.headers['content-type'], 'application/json');

      const retry = await slack.sendEvent(envelope.event, {
        eventId: envelope.event_id,
        retryNum: 1,
        retryReason: 'http_timeout',
      });
      assert.equal(JSON.parse(retry.request.body).event_id, envelope.event_id);
      assert.equal(app.requests[1]?.headers['x-slack-retry-num'], '1');
      assert.equal(app.requests[1]?.headers['x-slack-retry-reason'], 'http_timeout');
      assert.equal(app.requests[0]?.headers['x-slack-retry-num'], undefined);
    });

    it('sends url_verification with a challenge', async () => {
      const delivery = await slack.urlVerification();
      assert.deepEqual(JSON.parse(delivery.request.body), {
        token: slack.verificationToken,
        challenge: delivery.challenge,
        type: 'url_verification',
      });
    });

    it('stores a user’s message and sends the message event; a thread reply carries thread_ts', async () => {
      const posted = await slack.postAsUser('U0GRACE001', 'C0SUPPORT1', 'Printer on fire');
      assert.equal(slack.history('C0SUPPORT1')[0]?.ts, posted.ts);
      const event = (posted.delivery?.sent.event ?? {}) as Record<string, unknown>;
      assert.equal(event.type, 'message');
      assert.equal(event.channel, 'C0SUPPORT1');
      assert.equal(event.channel_type, 'channel');
      assert.equal(event.user, 'U0GRACE001');
      assert.equal(event.text, 'Printer on fire');
      assert.equal(event.ts, posted.ts);
      const reply = await slack.postAsUser('U0ADA00001', 'C0SUPPORT1', 'On it', { threadTs: posted.ts });
      const replyEvent = (reply.delivery?.sent.event ?? {}) as Record<string, unknown>;
      assert.equal(replyEvent.thread_ts, posted.ts);
      assert.equal(replyEvent.parent_user_id, 'U0GRACE001');
      assert.equal(slack.thread('C0SUPPORT1', posted.ts).length, 2);
    });

    it('sends nothing for channels the bot is not in, and app_mention when the bot is mentioned', async () => {
      const unseen = await slack.postAsUser('U0ADA00001', 'C0URGENT01', 'quiet here');
      assert.equal(unseen.delivery, null);
      assert.equal(slack.history('C0URGENT01').length, 1);
      const mention = await slack.postAsUser('U0ADA00001', 'C0SUPPORT1', 'hey <@U0BOTACME1> help');
      assert.equal((mention.mention?.sent.event as Record<string, unknown> | undefined)?.type, 'app_mention');
    });

    it('sends message_changed and message_deleted when users edit and delete', async () => {
      const posted = await slack.postAsUser('U0GRACE001', 'C0SUPPORT1', 'typo');
      const edit = await slack.editAsUser('U0GRACE001', 'C0SUPPORT1', posted.ts, 'fixed');
      const changed = edit.delivery?.sent.event as Record<string, unknown>;
      assert.equal(changed.subtype, 'message_changed');
      assert.equal((changed.message as Record<string, unknown>).text, 'fixed');
      assert.equal((changed.previous_message as Record<string, unknown>).text, 'typo');
      const removal = await slack.deleteAsUser('U0GRACE001', 'C0SUPPORT1', posted.ts);
      const deleted = removal.delivery?.sent.event as Record<string, unknown>;
      assert.equal(deleted.subtype, 'message_deleted');
      assert.equal(deleted.deleted_ts, posted.ts);
      assert.equal(slack.history('C0SUPPORT1').length, 0);
    });

    it('echoes the bot’s own messages as events, as Slack does', async () => {
      const client = new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
      await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'from the bot' });
      await slack.settle();
      const event = JSON.parse(app.requests[0]?.body ?? '{}').event;
      assert.equal(event.bot_id, 'B0BOTACME1');
      assert.equal(event.text, 'from the bot');
    });

    it('on uninstall revokes the tokens and sends tokens_revoked and app_uninstalled', async () => {
      const token = slack.botToken;
      const [revoked, uninstalled] = await slack.uninstall('T0ACME001');
      assert.deepEqual((revoked?.sent.event as Record<string, unknown> | undefined)?.tokens, { bot: ['U0BOTACME1'] });
      assert.equal((uninstalled?.sent.event as Record<string, unknown> | undefined)?.type, 'app_uninstalled');
      const client = new WebClient(token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
      await assert.rejects(client.auth.test(), (e: { data: { error: string } }) => e.data.error === 'token_revoked');
    });
  });

  describe('commands and interactivity', () => {
    it('sends slash commands form-encoded with Slack’s fields, and records what the app posts to response_url', async () => {
      const delivery = await slack.slashCommand({
        command: '/ticket',
        text: 'printer',
        userId: 'U0ADA00001',
        channelId: 'C0SUPPORT1',
      });
      const fields = Object.fromEntries(new URLSearchParams(app.requests[0]?.body));
      assert.equal(app.requests[0]?.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.deepEqual(Object.keys(fields).sort(), [
        'api_app_id',
        'channel_id',
        'channel_name',
        'command',
        'is_enterprise_install',
        'response_url',
        'team_domain',
        'team_id',
        'text',
        'token',
        'trigger_id',
        'user_id',
        'user_name',
      ]);
      assert.equal(fields.channel_name, 'support');
      assert.equal(fields.user_name, 'ada');
      assert.equal(fields.response_url, delivery.responseUrl);

      const ephemeral = await fetch(delivery.responseUrl as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'Creating…' }),
      });
      assert.equal(ephemeral.status, 200);
      await fetch(delivery.responseUrl as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'in_channel', text: 'Ticket #7 created' }),
      });
      assert.deepEqual(
        slack.responses(delivery.responseUrl as string).map((p) => p.body.text),
        ['Creating…', 'Ticket #7 created'],
      );
      assert.equal(slack.lastResponse()?.body.response_type, 'in_channel');
      assert.equal(slack.ephemerals[0]?.text, 'Creating…');
      assert.equal(slack.history('C0SUPPORT1')[0]?.text, 'Ticket #7 created');
    });

    it('sends block_actions built from the clicked element, and replace_original changes that message', async () => {
      const client = new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
      const posted = await client.chat.postMessage({
        channel: 'C0SUPPORT1',
        text: 'Ticket #7',
        blocks: [
          {
            type: 'actions',
            block_id: 'ticket-7',
            elements: [
              { type: 'button', action_id: 'assign', value: 't7', text: { type: 'plain_text', text: 'Assign' } },
              {
                type: 'static_select',
                action_id: 'priority',
                placeholder: { type: 'plain_text', text: 'Priority' },
                options: [
                  { text: { type: 'plain_text', text: 'High' }, value: 'high' },
                  { text: { type: 'plain_text', text: 'Low' }, value: 'low' },
                ],
              },
            ],
          },
        ],
      });
      await slack.settle();
      app.requests.length = 0;
      const ts = posted.ts as string;
      const click = await slack.blockAction({
        userId: 'U0GRACE001',
        channelId: 'C0SUPPORT1',
        messageTs: ts,
        actionId: 'assign',
      });
      const payload = payloadOf(app.requests[0]);
      assert.equal(payload.type, 'block_actions');
      assert.deepEqual(payload.container, {
        type: 'message',
        message_ts: ts,
        channel_id: 'C0SUPPORT1',
        is_ephemeral: false,
      });
      assert.equal((payload.message as Record<string, unknown>).ts, ts);
      assert.equal(payload.response_url, click.responseUrl);
      assert.equal(payload.trigger_id, click.triggerId);
      const [action] = payload.actions as Array<Record<string, unknown>>;
      assert.equal(action?.action_id, 'assign');
      assert.equal(action?.block_id, 'ticket-7');
      assert.equal(action?.value, 't7');
      assert.equal(action?.type, 'button');

      await slack.blockAction({
        userId: 'U0GRACE001',
        channelId: 'C0SUPPORT1',
        messageTs: ts,
        actionId: 'priority',
        selectedOption: 'high',
      });
      const [select] = payloadOf(app.requests[1]).actions as Array<Record<string, unknown>>;
      assert.deepEqual(select?.selected_option, { text: { type: 'plain_text', text: 'High' }, value: 'high' });

      await assert.rejects(
        slack.blockAction({ userId: 'U0GRACE001', channelId: 'C0SUPPORT1', messageTs: ts, actionId: 'no-such-button' }),
        /no element with action_id no-such-button/,
      );

      await fetch(click.responseUrl as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ replace_original: true, text: 'Ticket #7 — assigned to Grace' }),
      });
      assert.equal(slack.history('C0SUPPORT1')[0]?.text, 'Ticket #7 — assigned to Grace');
    });

    it('sends message shortcuts, global shortcuts and view submissions in Slack’s shapes', async () => {
      const posted = await slack.postAsUser('U0GRACE001', 'C0SUPPORT1', 'turn me into a ticket');
      app.requests.length = 0;
      await slack.messageShortcut({
        callbackId: 'to_ticket',
        userId: 'U0ADA00001',
        channelId: 'C0SUPPORT1',
        messageTs: posted.ts,
      });
      const shortcut = payloadOf(app.requests[0]);
      assert.equal(shortcut.type, 'message_action');
      assert.equal(shortcut.callback_id, 'to_ticket');
      assert.equal((shortcut.message as Record<string, unknown>).text, 'turn me into a ticket');
      assert.equal(shortcut.message_ts, posted.ts);

      await slack.globalShortcut({ callbackId: 'new_ticket', userId: 'U0ADA00001' });
      assert.equal(payloadOf(app.requests[1]).type, 'shortcut');

      const submission = await slack.viewSubmission({
        userId: 'U0ADA00001',
        view: {
          callback_id: 'ticket_form',
          private_metadata: '{"channel":"C0SUPPORT1"}',
          state: { values: { title: { value: { type: 'plain_text_input', value: 'Printer' } } } },
        },
      });
      const sent = payloadOf(app.requests[2]);
      assert.equal(sent.type, 'view_submission');
      const view = sent.view as Record<string, unknown>;
      assert.equal(view.callback_id, 'ticket_form');
      assert.equal(view.private_metadata, '{"channel":"C0SUPPORT1"}');
      assert.deepEqual(view.state, { values: { title: { value: { type: 'plain_text_input', value: 'Printer' } } } });
      assert.equal(submission.viewOutcome, 'closed');
    });

    it('refuses response_url posts Slack would refuse, and a sixth use', async () => {
      const delivery = await slack.slashCommand({ command: '/ticket', userId: 'U0ADA00001', channelId: 'C0SUPPORT1' });
      const post = (body: unknown) =>
        fetch(delivery.responseUrl as string, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      assert.equal((await post({ response_type: 'everyone', text: 'x' })).status, 400);
      assert.equal(slack.rejected.length, 1);
      for (let i = 0; i < 5; i++) assert.equal((await post({ text: `n${i}` })).status, 200);
      const sixth = await post({ text: 'too many' });
      assert.equal(sixth.status, 404);
      assert.deepEqual(await sixth.json(), { ok: false, error: 'used_url' });
    });
  });
});

describe('Slack fake: a real Bolt app driven through the fake', () => {
  let slack: SlackFake;
  let bolt: App;
  let server: Server;

  beforeEach(async () => {
    slack = await createSlackFake();
    bolt = new App({
      signingSecret: slack.signingSecret,
      token: slack.botToken,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    bolt.message('hello', async ({ message, say }) => {
      if ('ts' in message) await say({ text: 'hello to you too', thread_ts: message.ts });
    });
    bolt.command('/ticket', async ({ ack, respond }) => {
      await ack();
      await respond({ response_type: 'in_channel', text: 'Ticket created' });
    });
    server = (await bolt.start(0)) as Server;
    slack.setRequestUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
  });
  afterEach(async () => {
    await slack.close();
    await bolt.stop();
  });

  it('answers url_verification with the challenge', async () => {
    const delivery = await slack.urlVerification();
    assert.equal(delivery.status, 200);
    assert.equal((delivery.json as { challenge: string }).challenge, delivery.challenge);
  });

  it('receives a user’s message, replies in thread through the fake, and ignores the echo of its own reply', async () => {
    const posted = await slack.postAsUser('U0GRACE001', 'C0SUPPORT1', 'hello bot');
    assert.equal(posted.delivery?.status, 200);
    for (let i = 0; i < 50 && slack.thread('C0SUPPORT1', posted.ts).length < 2; i++)
      await new Promise((r) => setTimeout(r, 20));
    await slack.settle();
    const [, reply] = slack.thread('C0SUPPORT1', posted.ts);
    assert.equal(reply?.text, 'hello to you too');
    assert.equal(reply?.bot_id, 'B0BOTACME1');
    const echo = slack.deliveries.find((d) => (d.sent.event as Record<string, unknown>)?.bot_id === 'B0BOTACME1');
    assert.equal(echo?.status, 200, 'the app was told about its own reply');
    // The reply says "hello" too: only Bolt's ignoreSelf, fed by the bot_id the fake sets, stops a loop.
    assert.equal(slack.callsTo('chat.postMessage').length, 1);
    assert.deepEqual(slack.backgroundErrors, []);
    slack.assertNoRejectedCalls();
  });

  it('acks a slash command and its respond() lands on the response_url', async () => {
    const delivery = await slack.slashCommand({
      command: '/ticket',
      text: 'x',
      userId: 'U0ADA00001',
      channelId: 'C0SUPPORT1',
    });
    assert.equal(delivery.status, 200);
    for (let i = 0; i < 50 && slack.responses(delivery.responseUrl as string).length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(slack.responses(delivery.responseUrl as string)[0]?.body.text, 'Ticket created');
  });

  it('refuses the forged requests with 401', async () => {
    for (const signature of ['bad', 'stale', 'missing'] as const) {
      const delivery = await slack.sendEvent({ type: 'app_home_opened', user: 'U0ADA00001' }, { signature });
      assert.equal(delivery.status, 401, signature);
    }
    const command = await slack.slashCommand({
      command: '/ticket',
      userId: 'U0ADA00001',
      channelId: 'C0SUPPORT1',
      signature: 'stale',
    });
    assert.equal(command.status, 401);
    assert.equal(slack.responses(command.responseUrl as string).length, 0);
  });
});
