// The fake's Web API, called through the real @slack/web-api WebClient the integration uses.
import assert from 'node:assert/strict';
import { ErrorCode, type WebAPIPlatformError, type WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import { createSlackFake, type SlackFake } from './server.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'error', setName() {} };

/** A WebClient against the fake; `token: null` sends no token at all. */
function clientFor(slack: SlackFake, token: string | null = slack.botToken, extra: Record<string, unknown> = {}) {
  return new WebClient(token ?? undefined, {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    logger: quiet as never,
    ...extra,
  });
}

/** The Slack error code a WebClient call failed with. */
async function slackError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    const e = error as WebAPIPlatformError;
    assert.equal(e.code, ErrorCode.PlatformError, `expected a platform error, got ${e.code}: ${e.message}`);
    return e.data.error;
  }
  assert.fail('the call succeeded');
}

async function rawCall(slack: SlackFake, method: string, init: RequestInit) {
  const response = await fetch(`${slack.apiUrl}${method}`, { method: 'POST', ...init });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('Slack fake: Web API', () => {
  let slack: SlackFake;
  let client: WebClient;

  beforeEach(async () => {
    slack = await createSlackFake();
    client = clientFor(slack);
  });
  afterEach(async () => {
    await slack.close();
  });

  describe('valid calls', () => {
    it('answers auth.test for the pre-installed Acme bot token', async () => {
      const result = await client.auth.test();
      assert.equal(result.team_id, 'T0ACME001');
      assert.equal(result.team, 'Acme Support');
      assert.equal(result.user_id, 'U0BOTACME1');
      assert.equal(result.bot_id, 'B0BOTACME1');
      assert.equal(result.url, 'https://acme-support.slack.com/');
      slack.assertNoRejectedCalls();
    });

    it('posts a message with blocks and metadata as the bot, and keeps the metadata', async () => {
      const result = await client.chat.postMessage({
        channel: 'C0SUPPORT1',
        text: 'Ticket #42 opened',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Ticket #42*' } }],
        metadata: { event_type: 'ticket_opened', event_payload: { ticket_id: '42' } },
        unfurl_links: false,
        unfurl_media: false,
      });
      assert.equal(result.channel, 'C0SUPPORT1');
      assert.match(result.ts ?? '', /^\d{10}\.\d{6}$/);
      assert.equal(result.message?.bot_id, 'B0BOTACME1');
      assert.equal(result.message?.app_id, slack.appId);
      assert.equal(result.message?.user, 'U0BOTACME1');
      const [stored] = slack.history('C0SUPPORT1');
      assert.deepEqual(stored?.metadata, { event_type: 'ticket_opened', event_payload: { ticket_id: '42' } });
      assert.deepEqual(slack.callsTo('chat.postMessage')[0]?.args.blocks, [
        { type: 'section', text: { type: 'mrkdwn', text: '*Ticket #42*' } },
      ]);
      slack.assertNoRejectedCalls();
    });

    it('threads replies under the parent, and a broadcast reply also shows in the channel', async () => {
      const parent = await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'parent' });
      const ts = parent.ts as string;
      await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'quiet reply', thread_ts: ts });
      await client.chat.postMessage({
        channel: 'C0SUPPORT1',
        text: 'loud reply',
        thread_ts: ts,
        reply_broadcast: true,
      });
      const history = await client.conversations.history({ channel: 'C0SUPPORT1' });
      assert.deepEqual(
        history.messages?.map((m) => m.text),
        ['loud reply', 'parent'],
      );
      const replies = await client.conversations.replies({ channel: 'C0SUPPORT1', ts });
      assert.deepEqual(
        replies.messages?.map((m) => m.text),
        ['parent', 'quiet reply', 'loud reply'],
      );
      assert.equal(replies.messages?.[0]?.reply_count, 2);
      slack.assertNoRejectedCalls();
    });

    it('updates and deletes its own messages', async () => {
      const posted = await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'v1' });
      const updated = await client.chat.update({ channel: 'C0SUPPORT1', ts: posted.ts as string, text: 'v2' });
      assert.equal(updated.text, 'v2');
      assert.equal(slack.history('C0SUPPORT1')[0]?.text, 'v2');
      assert.ok(slack.history('C0SUPPORT1')[0]?.edited);
      await client.chat.delete({ channel: 'C0SUPPORT1', ts: posted.ts as string });
      assert.equal(slack.history('C0SUPPORT1').length, 0);
      slack.assertNoRejectedCalls();
    });

    it('records ephemerals and builds permalinks', async () => {
      const posted = await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'hello' });
      await client.chat.postEphemeral({ channel: 'C0SUPPORT1', user: 'U0GRACE001', text: 'just for you' });
      assert.deepEqual(
        slack.ephemerals.map((e) => [e.user, e.text]),
        [['U0GRACE001', 'just for you']],
      );
      const link = await client.chat.getPermalink({ channel: 'C0SUPPORT1', message_ts: posted.ts as string });
      assert.equal(
        link.permalink,
        `https://acme-support.slack.com/archives/C0SUPPORT1/p${posted.ts?.replace('.', '')}`,
      );
    });

    it('finds users by email and shows their email in users.info', async () => {
      const found = await client.users.lookupByEmail({ email: 'grace@acme.test' });
      assert.equal(found.user?.id, 'U0GRACE001');
      const info = await client.users.info({ user: 'U0CAROL001' });
      assert.equal(info.user?.profile?.email, 'carol@customer.test');
      assert.equal(info.user?.team_id, 'T0CUSTOMR1', 'a Slack Connect user keeps her own team');
    });

    it('joins a public channel, after which the bot may post there', async () => {
      assert.equal(await slackError(client.chat.postMessage({ channel: 'C0URGENT01', text: 'x' })), 'not_in_channel');
      const joined = await client.conversations.join({ channel: 'C0URGENT01' });
      assert.equal(joined.channel?.is_member, true);
      await client.chat.postMessage({ channel: 'C0URGENT01', text: 'now I can' });
      assert.equal(slack.history('C0URGENT01')[0]?.text, 'now I can');
    });

    it('opens a DM with a user (a D id) and posts in it', async () => {
      const opened = await client.conversations.open({ users: 'U0ADA00001' });
      assert.equal(opened.channel?.id, 'D0ADA00001');
      await client.chat.postMessage({ channel: 'D0ADA00001', text: 'psst' });
      assert.equal(slack.history('D0ADA00001')[0]?.text, 'psst');
    });

    it('returns metadata of other apps’ messages only with include_all_metadata', async () => {
      await client.chat.postMessage({
        channel: 'C0SUPPORT1',
        text: 'ours',
        metadata: { event_type: 'ticket', event_payload: { id: 1 } },
      });
      slack.store.addMessage('C0SUPPORT1', {
        type: 'message',
        ts: slack.store.nextTs(),
        text: 'another app',
        bot_id: 'B0OTHER001',
        app_id: 'A0OTHER001',
        metadata: { event_type: 'other', event_payload: { x: 1 } },
      });
      const plain = await client.conversations.history({ channel: 'C0SUPPORT1' });
      assert.deepEqual(
        plain.messages?.map((m) => m.metadata?.event_type ?? null),
        [null, 'ticket'],
      );
      const all = await client.conversations.history({ channel: 'C0SUPPORT1', include_all_metadata: true });
      assert.deepEqual(
        all.messages?.map((m) => m.metadata?.event_type ?? null),
        ['other', 'ticket'],
      );
      slack.assertNoRejectedCalls();
    });

    it('accepts a JSON body with the token in the Authorization header, and a form body with a token argument', async () => {
      const json = await rawCall(slack, 'chat.postMessage', {
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${slack.botToken}` },
        body: JSON.stringify({ channel: 'C0SUPPORT1', text: 'json', blocks: [{ type: 'divider' }] }),
      });
      assert.equal(json.body.ok, true);
      const form = await rawCall(slack, 'auth.test', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: slack.botToken }).toString(),
      });
      assert.equal(form.body.ok, true);
      slack.assertNoRejectedCalls();
    });
  });

  describe('the description check', () => {
    it('rejects an unknown argument with invalid_arguments and records it', async () => {
      const error = await slackError(
        client.apiCall('chat.postMessage', { channel: 'C0SUPPORT1', text: 'x', colour: 'red' }),
      );
      assert.equal(error, 'invalid_arguments');
      assert.deepEqual(slack.rejected[0]?.reasons, ['unknown argument colour']);
      assert.throws(() => slack.assertNoRejectedCalls(), /unknown argument colour/);
      assert.equal(slack.history('C0SUPPORT1').length, 0, 'nothing was posted');
    });

    it('answers a missing required argument with the documented error', async () => {
      assert.equal(await slackError(client.apiCall('chat.postMessage', { text: 'x' })), 'channel_not_found');
      assert.equal(await slackError(client.apiCall('chat.postMessage', { channel: 'C0SUPPORT1' })), 'no_text');
      assert.equal(await slackError(client.apiCall('users.info', {})), 'user_not_found');
      assert.equal(await slackError(client.apiCall('views.publish', { user_id: 'U0ADA00001' })), 'invalid_arguments');
      assert.equal(slack.rejected.length, 4);
    });

    it('rejects a value of the wrong type', async () => {
      assert.equal(await slackError(client.apiCall('conversations.list', { limit: 'lots' })), 'invalid_arguments');
      assert.equal(
        await slackError(client.apiCall('chat.postMessage', { channel: 'C0SUPPORT1', text: 'x', blocks: '{not json' })),
        'invalid_arguments',
      );
      assert.equal(
        await slackError(client.apiCall('conversations.history', { channel: 'C0SUPPORT1', oldest: 'yesterday' })),
        'invalid_ts_oldest',
      );
      assert.equal(slack.rejected.length, 3);
    });

    it('rejects blocks Slack would refuse with invalid_blocks', async () => {
      const error = await slackError(
        client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'x', blocks: [{ type: 'section' }] as never }),
      );
      assert.equal(error, 'invalid_blocks');
      assert.equal(slack.rejected.length, 1);
    });

    it('rejects a JSON body for a method that only takes form bodies, and a token inside a JSON body', async () => {
      const history = await rawCall(slack, 'conversations.history', {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${slack.botToken}` },
        body: JSON.stringify({ channel: 'C0SUPPORT1' }),
      });
      assert.equal(history.body.error, 'invalid_arguments');
      const tokenInBody = await rawCall(slack, 'auth.test', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: slack.botToken }),
      });
      assert.equal(tokenInBody.body.error, 'not_authed');
      assert.equal(slack.rejected.length, 2);
    });

    it('refuses methods it does not model instead of pretending', async () => {
      assert.equal(
        await slackError(client.reactions.add({ channel: 'C0SUPPORT1', timestamp: '1.1', name: 'eyes' })),
        'fake_not_modelled',
      );
      assert.equal(await slackError(client.apiCall('chat.shout', {})), 'unknown_method');
      assert.equal(slack.rejected.length, 2);
    });
  });

  describe('Slack’s errors', () => {
    it('answers not_authed, invalid_auth, token_revoked and account_inactive', async () => {
      assert.equal(await slackError(clientFor(slack, null).auth.test()), 'not_authed');
      assert.equal(await slackError(clientFor(slack, 'xoxb-1-2-nope').auth.test()), 'invalid_auth');
      slack.addTeam();
      const globex = clientFor(slack, slack.install('T0GLOBEX01').botToken.token);
      slack.revokeTokens('T0ACME001');
      assert.equal(await slackError(client.auth.test()), 'token_revoked');
      slack.deactivateTeam('T0GLOBEX01');
      assert.equal(await slackError(globex.auth.test()), 'account_inactive');
    });

    it('answers channel_not_found for unknown, other-team and unjoined private channels; is_archived for archived ones', async () => {
      assert.equal(
        await slackError(client.chat.postMessage({ channel: 'C0NOPE0001', text: 'x' })),
        'channel_not_found',
      );
      assert.equal(
        await slackError(client.chat.postMessage({ channel: 'C0ESCALAT1', text: 'x' })),
        'channel_not_found',
      );
      slack.addTeam();
      assert.equal(
        await slackError(client.chat.postMessage({ channel: 'C0GXHELP01', text: 'x' })),
        'channel_not_found',
      );
      assert.equal(await slackError(client.chat.postMessage({ channel: 'C0OLDNEWS1', text: 'x' })), 'is_archived');
      slack.assertNoRejectedCalls();
    });

    it('answers message_not_found and cant_update_message', async () => {
      const theirs = await slack.postAsUser('U0GRACE001', 'C0SUPPORT1', 'mine, not the bot’s');
      assert.equal(
        await slackError(client.chat.update({ channel: 'C0SUPPORT1', ts: theirs.ts, text: 'edited by bot' })),
        'cant_update_message',
      );
      assert.equal(
        await slackError(client.chat.update({ channel: 'C0SUPPORT1', ts: '1700000000.000001', text: 'x' })),
        'message_not_found',
      );
    });

    it('answers users_not_found and user_not_found', async () => {
      assert.equal(await slackError(client.users.lookupByEmail({ email: 'nobody@acme.test' })), 'users_not_found');
      assert.equal(await slackError(client.users.info({ user: 'U0NOBODY01' })), 'user_not_found');
    });

    it('answers missing_scope with needed and provided when the token lacks a scope', async () => {
      slack.addTeam();
      const narrow = clientFor(slack, slack.install('T0GLOBEX01', { botScopes: ['chat:write'] }).botToken.token);
      try {
        await narrow.users.info({ user: 'U0HANK0001' });
        assert.fail('expected missing_scope');
      } catch (error) {
        const data = (error as WebAPIPlatformError).data as unknown as Record<string, unknown>;
        assert.equal(data.error, 'missing_scope');
        assert.equal(data.needed, 'users:read');
        assert.equal(data.provided, 'chat:write');
      }
    });

    it('answers views.open with invalid, expired and exchanged trigger ids as Slack does', async () => {
      const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Hi' }, blocks: [] };
      assert.equal(await slackError(client.views.open({ trigger_id: '1.2.3', view })), 'invalid_trigger_id');
      const posted = await client.chat.postMessage({
        channel: 'C0SUPPORT1',
        text: 'x',
        blocks: [
          {
            type: 'actions',
            elements: [{ type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' } }],
          },
        ],
      });
      slack.setRequestUrl('http://127.0.0.1:9/slack/events');
      const click = await slack.blockAction({
        userId: 'U0ADA00001',
        channelId: 'C0SUPPORT1',
        messageTs: posted.ts as string,
        actionId: 'go',
      });
      const opened = await client.views.open({ trigger_id: click.triggerId as string, view });
      assert.ok(opened.view?.id);
      assert.equal(
        await slackError(client.views.open({ trigger_id: click.triggerId as string, view })),
        'exchanged_trigger_id',
      );
      slack.setTriggerTtl(0);
      const late = await slack.blockAction({
        userId: 'U0ADA00001',
        channelId: 'C0SUPPORT1',
        messageTs: posted.ts as string,
        actionId: 'go',
      });
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(
        await slackError(client.views.open({ trigger_id: late.triggerId as string, view })),
        'expired_trigger_id',
      );
    });
  });

  describe('failures and rate limits', () => {
    it('fails the next call as told', async () => {
      slack.failNext('chat.postMessage', { error: 'fatal_error' });
      assert.equal(await slackError(client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'x' })), 'fatal_error');
      await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'x' });
      assert.deepEqual(
        slack.callsTo('chat.postMessage').map((c) => [c.ok, c.error]),
        [
          [false, 'fatal_error'],
          [true, null],
        ],
      );
    });

    it('answers ratelimited with HTTP 429 and Retry-After, which WebClient raises as a rate-limit error', async () => {
      slack.failNext('conversations.list', { error: 'ratelimited', retryAfter: 7 });
      const raw = await rawCall(slack, 'conversations.list', {
        headers: { authorization: `Bearer ${slack.botToken}` },
      });
      assert.equal(raw.status, 429);
      assert.equal(raw.headers.get('retry-after'), '7');
      assert.deepEqual(raw.body, { ok: false, error: 'ratelimited' });

      slack.failNext('conversations.list', { error: 'ratelimited', retryAfter: 30 });
      const rejecting = clientFor(slack, slack.botToken, { rejectRateLimitedCalls: true });
      await assert.rejects(rejecting.conversations.list(), (error: WebAPIRateLimitedError) => {
        assert.equal(error.code, ErrorCode.RateLimitedError);
        assert.equal(error.retryAfter, 30);
        return true;
      });
    });

    it('limits chat.postMessage per channel per second when perChannelPostsPerSecond is set', async () => {
      await slack.close();
      slack = await createSlackFake({ perChannelPostsPerSecond: 2 });
      const rejecting = clientFor(slack, slack.botToken, { rejectRateLimitedCalls: true });
      await rejecting.chat.postMessage({ channel: 'C0SUPPORT1', text: '1' });
      await rejecting.chat.postMessage({ channel: 'C0SUPPORT1', text: '2' });
      await assert.rejects(rejecting.chat.postMessage({ channel: 'C0SUPPORT1', text: '3' }), {
        code: ErrorCode.RateLimitedError,
      });
      await rejecting.conversations.join({ channel: 'C0URGENT01' });
      await rejecting.chat.postMessage({ channel: 'C0URGENT01', text: 'another channel is fine' });
      assert.deepEqual(
        slack.callsTo('chat.postMessage').map((c) => c.status),
        [200, 200, 429, 200],
      );
    });

    it('goes down (connection refused, then 503) and comes back', async () => {
      await slack.down();
      await assert.rejects(client.auth.test(), { code: ErrorCode.RequestError });
      await slack.up();
      await client.auth.test();
      await slack.down('503');
      await assert.rejects(client.auth.test(), { code: ErrorCode.HTTPError });
      await slack.up();
      await client.auth.test();
    });

    it('holds calls while paused and answers them on resume', async () => {
      slack.pause();
      let answered = false;
      const call = client.auth.test().then(() => {
        answered = true;
      });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(answered, false);
      slack.resume();
      await call;
      assert.equal(answered, true);
    });
  });

  describe('pagination', () => {
    it('pages conversations.list with response_metadata.next_cursor until it is empty', async () => {
      for (let i = 0; i < 5; i++) slack.store.addChannel('T0ACME001', { name: `extra-${i}` });
      const first = await client.conversations.list({ limit: 3, exclude_archived: true });
      assert.equal(first.channels?.length, 3);
      assert.ok(first.response_metadata?.next_cursor);
      const names: string[] = [];
      for await (const page of client.paginate('conversations.list', { limit: 3, exclude_archived: true })) {
        names.push(...((page as { channels?: Array<{ name: string }> }).channels ?? []).map((c) => c.name));
      }
      assert.deepEqual(names, [
        'general',
        'support',
        'urgent',
        'billing',
        'ext-customer',
        'extra-0',
        'extra-1',
        'extra-2',
        'extra-3',
        'extra-4',
      ]);
      assert.equal(slack.callsTo('conversations.list').length, 5);
      const last = slack.callsTo('conversations.list').at(-1);
      assert.deepEqual(last?.response.response_metadata, { next_cursor: '' });
    });

    it('lists private channels and DMs only where the bot is a member, by types', async () => {
      const publicOnly = await client.conversations.list();
      assert.ok(publicOnly.channels?.every((c) => !c.is_private));
      await client.conversations.open({ users: 'U0GRACE001' });
      const all = await client.conversations.list({ types: 'public_channel,private_channel,im' });
      assert.ok(all.channels?.some((c) => c.id === 'D0GRACE001'));
      assert.ok(!all.channels?.some((c) => c.id === 'C0ESCALAT1'));
      assert.equal(await slackError(client.conversations.list({ types: 'public_channel,dm' })), 'invalid_types');
    });

    it('pages conversations.history newest first, honouring oldest', async () => {
      const ts: string[] = [];
      for (let i = 0; i < 5; i++)
        ts.push((await client.chat.postMessage({ channel: 'C0SUPPORT1', text: `m${i}` })).ts as string);
      const page1 = await client.conversations.history({ channel: 'C0SUPPORT1', limit: 2 });
      assert.deepEqual(
        page1.messages?.map((m) => m.text),
        ['m4', 'm3'],
      );
      assert.equal(page1.has_more, true);
      const page2 = await client.conversations.history({
        channel: 'C0SUPPORT1',
        limit: 2,
        cursor: page1.response_metadata?.next_cursor,
      });
      assert.deepEqual(
        page2.messages?.map((m) => m.text),
        ['m2', 'm1'],
      );
      const since = await client.conversations.history({ channel: 'C0SUPPORT1', oldest: ts[2] });
      assert.deepEqual(
        since.messages?.map((m) => m.text),
        ['m4', 'm3'],
      );
      assert.equal(
        await slackError(client.conversations.history({ channel: 'C0SUPPORT1', cursor: 'bogus' })),
        'invalid_cursor',
      );
    });
  });
});
