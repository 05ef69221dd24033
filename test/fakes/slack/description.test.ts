// The fake against Slack's own description: its table of differences is exactly what separates the 2020
// description from the pinned SDK's types, and its answers have the documented shapes and error codes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WebClient } from '@slack/web-api';
import {
  isObject,
  JSON_VALUED,
  MODELLED_METHODS,
  methodSpec,
  NEWER_ERRORS,
  NEWER_RESPONSE_PROPERTIES,
  RESPONSE_DROPPED_REQUIRED,
  RESPONSE_SCHEMA_ERRATA,
  SLACK_DESCRIPTION_PATH,
  slackDescription,
  TYPE_DIFFERENCES,
} from './description.ts';
import { schemaErrors } from './schema-check.ts';
import { sdkArguments } from './sdk-types.ts';
import { createSlackFake, type SlackFake } from './server.ts';

const typeOfSdk = (t: string) => (t === 'timestamp' ? 'string' : t);

describe('Slack fake: the description and the SDK types', function () {
  this.timeout(60_000);

  it('lists every difference between the 2020 description and @slack/web-api 8.2.0, and nothing else', () => {
    const sdk = sdkArguments();
    const found: string[] = [];
    for (const method of MODELLED_METHODS) {
      const raw = rawParameters(method);
      const types = sdk.get(method);
      assert.ok(types, `no SDK argument type for ${method}`);
      for (const [name, param] of types) {
        if (name === 'team_id' && method !== 'conversations.list') continue;
        const described = raw.get(name);
        if (!described) {
          found.push(`${method} ${name}: added ${param.type}${param.required ? ' required' : ''}`);
          continue;
        }
        const describedType = JSON_VALUED[name] ?? described.type;
        const sameType =
          describedType === param.type ||
          (describedType === 'integer' && param.type === 'number') ||
          (JSON_VALUED[name] !== undefined && param.type === JSON_VALUED[name]);
        if (!sameType || described.required !== param.required)
          found.push(
            `${method} ${name}: ${describedType}${described.required ? ' required' : ''} -> ${param.type}${param.required ? ' required' : ''}`,
          );
      }
      for (const name of raw.keys()) if (!types.has(name)) found.push(`${method} ${name}: removed`);
    }
    const listed = TYPE_DIFFERENCES.map((d) => {
      if (!d.types) return `${d.method} ${d.param}: removed`;
      const sdkType = typeOfSdk(d.types.type);
      if (!d.description) return `${d.method} ${d.param}: added ${sdkType}${d.types.required ? ' required' : ''}`;
      const describedType = JSON_VALUED[d.param] ?? d.description.type;
      return `${d.method} ${d.param}: ${describedType}${d.description.required ? ' required' : ''} -> ${sdkType}${d.types.required ? ' required' : ''}`;
    });
    assert.deepEqual([...listed].sort(), [...found].sort());
  });

  it('applies the differences: the fake accepts what the types allow and the description lacks', () => {
    assert.equal(methodSpec('chat.postMessage')?.params.get('metadata')?.type, 'json-object');
    assert.equal(methodSpec('conversations.history')?.params.get('include_all_metadata')?.type, 'boolean');
    assert.equal(methodSpec('chat.delete')?.params.get('ts')?.required, true);
    assert.equal(methodSpec('views.open')?.params.get('trigger_id')?.required, false);
  });
});

describe('Slack fake: answers in the documented shapes', function () {
  this.timeout(30_000);
  let slack: SlackFake;
  let client: WebClient;

  before(async () => {
    slack = await createSlackFake();
    client = new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    await runEveryMethod(slack, client);
  });
  after(async () => {
    await slack.close();
  });

  it('exercised every modelled method successfully', () => {
    const succeeded = new Set(slack.calls.filter((c) => c.ok).map((c) => c.method));
    assert.deepEqual(
      MODELLED_METHODS.filter((m) => !succeeded.has(m)),
      [],
    );
  });

  it('answers every successful call with the method’s documented success schema (plus the listed newer fields)', () => {
    const { definitions } = slackDescription();
    const problems: string[] = [];
    for (const call of slack.calls.filter((c) => c.ok)) {
      const schema = methodSpec(call.method)?.successSchema;
      const errors = schemaErrors(call.response, schema, {
        definitions,
        newerProperties: NEWER_RESPONSE_PROPERTIES,
        droppedRequired: RESPONSE_DROPPED_REQUIRED,
      });
      const errata = RESPONSE_SCHEMA_ERRATA.filter((e) => e.method === call.method).map((e) => `${e.path}:`);
      problems.push(...errors.filter((e) => !errata.some((p) => e.startsWith(p))).map((e) => `${call.method} ${e}`));
    }
    assert.deepEqual(problems, []);
  });

  it('answers errors only with codes the description documents for the method, or the listed newer ones', () => {
    const failed = slack.calls.filter((c) => !c.ok);
    assert.ok(failed.length >= 10, 'the scenario provokes errors too');
    const undocumented = failed
      .filter((c) => !(methodSpec(c.method)?.errors ?? []).includes(c.error ?? '') && !NEWER_ERRORS.has(c.error ?? ''))
      .map((c) => `${c.method}: ${c.error}`);
    assert.deepEqual(undocumented, []);
  });

  it('sends Events API envelopes with the fields of the AsyncAPI wrapper (authorizations instead of authed_users)', () => {
    const events = JSON.parse(
      readFileSync(path.join(path.dirname(SLACK_DESCRIPTION_PATH), 'slack_events_api_async_v1.json'), 'utf8'),
    ) as { components: { schemas: { GenericEventWrapper: unknown } } };
    const deliveries = slack.deliveries.filter((d) => d.kind === 'event');
    assert.ok(deliveries.length > 0);
    for (const delivery of deliveries) {
      const errors = schemaErrors(delivery.sent, events.components.schemas.GenericEventWrapper, {
        definitions: {},
        droppedRequired: new Set(['authed_users']),
      });
      assert.deepEqual(errors, []);
      assert.ok(Array.isArray(delivery.sent.authorizations));
    }
  });
});

function rawParameters(method: string): Map<string, { type: string; required: boolean }> {
  const raw = rawDescription();
  const operation = Object.values(raw.paths[`/${method}`] ?? {})[0];
  return new Map(
    (operation?.parameters ?? [])
      .filter((p) => p.name !== 'token')
      .map((p) => [p.name, { type: p.type, required: p.required === true }]),
  );
}

let rawCache:
  | {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; type: string; required?: boolean }> }>>;
    }
  | undefined;
function rawDescription() {
  rawCache ??= JSON.parse(readFileSync(SLACK_DESCRIPTION_PATH, 'utf8'));
  if (!rawCache) throw new Error('description not loaded');
  return rawCache;
}

/** Calls every modelled method at least once successfully, and provokes the common errors. */
async function runEveryMethod(slack: SlackFake, client: WebClient) {
  const expectError = async (call: Promise<unknown>) => {
    await assert.rejects(call);
  };
  slack.setRequestUrl('http://127.0.0.1:9/slack/events');
  await client.auth.test();
  await client.team.info();
  await client.users.info({ user: 'U0ADA00001', include_locale: true });
  await client.users.info({ user: 'U0CAROL001' });
  await client.users.lookupByEmail({ email: 'grace@acme.test' });
  await client.conversations.list({ types: 'public_channel,private_channel,im', limit: 3 });
  await client.conversations.info({ channel: 'C0SUPPORT1', include_num_members: true });
  await client.conversations.join({ channel: 'C0URGENT01' });
  await client.conversations.join({ channel: 'C0URGENT01' });
  const parent = await client.chat.postMessage({
    channel: 'C0SUPPORT1',
    text: 'Ticket #1 opened',
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: '*Ticket #1*' } },
      { type: 'actions', elements: [{ type: 'button', action_id: 'ack', text: { type: 'plain_text', text: 'Ack' } }] },
    ],
    metadata: { event_type: 'ticket_opened', event_payload: { ticket: 1 } },
  });
  const ts = parent.ts as string;
  await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'reply', thread_ts: ts });
  await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'broadcast', thread_ts: ts, reply_broadcast: true });
  const user = await slack.postAsUser('U0GRACE001', 'C0SUPPORT1', 'customer reply', { threadTs: ts });
  await client.chat.update({ channel: 'C0SUPPORT1', ts, text: 'Ticket #1 (acked)' });
  await client.chat.postEphemeral({ channel: 'C0SUPPORT1', user: 'U0ADA00001', text: 'only you' });
  await client.chat.getPermalink({ channel: 'C0SUPPORT1', message_ts: ts });
  await slack.postAsUser('U0LINUS001', 'C0SUPPORT1', 'another top-level message');
  const paged = await client.conversations.history({ channel: 'C0SUPPORT1', include_all_metadata: true, limit: 2 });
  assert.equal(paged.has_more, true);
  await client.conversations.replies({ channel: 'C0SUPPORT1', ts });
  await client.conversations.open({ users: 'U0ADA00001' });
  await client.conversations.open({ users: 'U0ADA00001', return_im: true });
  const action = await slack.blockAction({
    userId: 'U0ADA00001',
    channelId: 'C0SUPPORT1',
    messageTs: ts,
    actionId: 'ack',
  });
  const opened = await client.views.open({
    trigger_id: action.triggerId as string,
    view: {
      type: 'modal',
      callback_id: 'triage',
      title: { type: 'plain_text', text: 'Triage' },
      submit: { type: 'plain_text', text: 'Save' },
      blocks: [
        {
          type: 'input',
          block_id: 'note',
          label: { type: 'plain_text', text: 'Note' },
          element: { type: 'plain_text_input', action_id: 'value' },
        },
      ],
    },
  });
  const viewId = (opened.view as { id: string }).id;
  await client.views.update({
    view_id: viewId,
    view: { type: 'modal', title: { type: 'plain_text', text: 'Triage' }, blocks: [] },
  });
  await client.views.publish({ user_id: 'U0ADA00001', view: { type: 'home', blocks: [] } });
  const other = await client.chat.postMessage({ channel: 'C0SUPPORT1', text: 'to delete' });
  await client.chat.delete({ channel: 'C0SUPPORT1', ts: other.ts as string });

  await expectError(client.chat.postMessage({ channel: 'C0BILLING1', text: 'not joined' }));
  await expectError(client.chat.postMessage({ channel: 'C0NOPE0001', text: 'nowhere' }));
  await expectError(client.chat.postMessage({ channel: 'C0OLDNEWS1', text: 'archived' }));
  await expectError(client.chat.update({ channel: 'C0SUPPORT1', ts: user.ts, text: 'not mine' }));
  await expectError(client.chat.update({ channel: 'C0SUPPORT1', ts: '1.000001', text: 'gone' }));
  await expectError(client.chat.delete({ channel: 'C0SUPPORT1', ts: user.ts }));
  await expectError(client.users.lookupByEmail({ email: 'nobody@acme.test' }));
  await expectError(client.users.info({ user: 'U0NOBODY01' }));
  await expectError(client.conversations.history({ channel: 'C0BILLING1' }));
  await expectError(client.conversations.replies({ channel: 'C0SUPPORT1', ts: '1.000001' }));
  await expectError(
    client.views.open({
      trigger_id: '12345.67890.abc',
      view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] },
    }),
  );
  await expectError(client.conversations.join({ channel: 'C0ESCALAT1' }));
  await expectError(
    new WebClient('xoxb-unknown', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }).auth.test(),
  );
  await expectError(new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }).auth.test());

  // OAuth round trip into a second workspace, then that installation's token revoked by the app itself.
  slack.addTeam();
  const redirect = slack.approveInstall(
    `${slack.oauth.authorizeUrl}?client_id=${slack.clientId}&scope=chat:write,channels:read&redirect_uri=http://127.0.0.1:9/cb&state=s1`,
    { teamId: 'T0GLOBEX01' },
  );
  const code = new URL(redirect).searchParams.get('code') as string;
  const noToken = new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  const access = await noToken.oauth.v2.access({
    client_id: slack.clientId,
    client_secret: slack.clientSecret,
    code,
    redirect_uri: 'http://127.0.0.1:9/cb',
  });
  await expectError(
    noToken.oauth.v2.access({
      client_id: slack.clientId,
      client_secret: slack.clientSecret,
      code,
      redirect_uri: 'http://127.0.0.1:9/cb',
    }),
  );
  const globex = new WebClient(access.access_token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  await globex.auth.revoke();
  await expectError(globex.auth.test());
  await slack.settle();
  slack.rejected.length = 0;
  assert.ok(isObject(parent.message));
}
