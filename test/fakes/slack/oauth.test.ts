// The fake's OAuth v2 install flow, driven as Slack's "Add to Slack" page and through @slack/oauth's InstallProvider.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Installation, InstallProvider, LogLevel } from '@slack/oauth';
import { ErrorCode, type WebAPIPlatformError, WebClient } from '@slack/web-api';
import { createSlackFake, type SlackFake } from './server.ts';

const REDIRECT = 'http://127.0.0.1:9/slack/oauth_redirect';

function authorizeUrl(slack: SlackFake, params: Record<string, string>): string {
  const url = new URL(slack.oauth.authorizeUrl);
  for (const [k, v] of Object.entries({ client_id: slack.clientId, redirect_uri: REDIRECT, ...params }))
    url.searchParams.set(k, v);
  return url.toString();
}

async function access(slack: SlackFake, args: Record<string, string>) {
  const client = new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  return client.oauth.v2.access({ client_id: slack.clientId, client_secret: slack.clientSecret, ...args });
}

async function oauthError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    assert.equal((error as WebAPIPlatformError).code, ErrorCode.PlatformError);
    return (error as WebAPIPlatformError).data.error;
  }
  assert.fail('the call succeeded');
}

describe('Slack fake: OAuth v2', () => {
  let slack: SlackFake;
  beforeEach(async () => {
    slack = await createSlackFake({ preinstall: false });
  });
  afterEach(async () => {
    await slack.close();
  });

  it('approves an install and exchanges the code for the documented v2 answer, whose bot token works', async () => {
    const redirect = new URL(
      slack.approveInstall(
        authorizeUrl(slack, { scope: 'chat:write,channels:read', user_scope: 'search:read', state: 'st-1' }),
      ),
    );
    assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT);
    assert.equal(redirect.searchParams.get('state'), 'st-1');
    const code = redirect.searchParams.get('code') as string;
    const result = await access(slack, { code, redirect_uri: REDIRECT });
    assert.match(result.access_token ?? '', /^xoxb-/);
    assert.equal(result.token_type, 'bot');
    assert.equal(result.scope, 'chat:write,channels:read');
    assert.equal(result.bot_user_id, 'U0BOTACME1');
    assert.equal(result.app_id, slack.appId);
    assert.deepEqual(result.team, { id: 'T0ACME001', name: 'Acme Support' });
    assert.equal(result.enterprise, null);
    assert.equal(result.is_enterprise_install, false);
    assert.equal(result.authed_user?.id, 'U0ADA00001');
    assert.match(result.authed_user?.access_token ?? '', /^xoxp-/);
    const bot = new WebClient(result.access_token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    assert.equal((await bot.auth.test()).bot_id, 'B0BOTACME1');
    slack.assertNoRejectedCalls();
  });

  it('accepts the client credentials as HTTP Basic instead of arguments', async () => {
    const code = new URL(slack.approveInstall(authorizeUrl(slack, { scope: 'chat:write' }))).searchParams.get('code');
    const response = await fetch(`${slack.apiUrl}oauth.v2.access`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${slack.clientId}:${slack.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ code: code ?? '', redirect_uri: REDIRECT }).toString(),
    });
    const body = (await response.json()) as { ok: boolean; access_token: string };
    assert.equal(body.ok, true);
    assert.match(body.access_token, /^xoxb-/);
  });

  it('makes codes single-use and short-lived, and checks the secret and redirect_uri', async () => {
    const code = () =>
      new URL(slack.approveInstall(authorizeUrl(slack, { scope: 'chat:write' }))).searchParams.get('code') as string;
    const once = code();
    await access(slack, { code: once, redirect_uri: REDIRECT });
    assert.equal(await oauthError(access(slack, { code: once, redirect_uri: REDIRECT })), 'invalid_code');
    assert.equal(
      await oauthError(access(slack, { code: code(), redirect_uri: 'http://127.0.0.1:9/elsewhere' })),
      'bad_redirect_uri',
    );
    assert.equal(
      await oauthError(access(slack, { code: code(), redirect_uri: REDIRECT, client_secret: 'wrong' })),
      'bad_client_secret',
    );
    await slack.close();
    slack = await createSlackFake({ preinstall: false, oauthCodeTtlMs: 1 });
    const stale = code();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(await oauthError(access(slack, { code: stale, redirect_uri: REDIRECT })), 'invalid_code');
  });

  it('refuses an unknown client_id, unknown scopes and unregistered redirect URIs on the install page', async () => {
    assert.throws(
      () => slack.approveInstall(authorizeUrl(slack, { client_id: '123.456', scope: 'chat:write' })),
      /client_id/,
    );
    assert.throws(
      () => slack.approveInstall(authorizeUrl(slack, { scope: 'chat:write,telepathy:read' })),
      /telepathy:read/,
    );
    assert.throws(() => slack.approveInstall(authorizeUrl(slack, { scope: 'search:read' })), /search:read/);
    await slack.close();
    slack = await createSlackFake({ redirectUris: ['https://switchboard.test/slack/oauth_redirect'] });
    assert.throws(() => slack.approveInstall(authorizeUrl(slack, { scope: 'chat:write' })), /redirect_uri/);
    const ok = slack.approveInstall(
      authorizeUrl(slack, { scope: 'chat:write', redirect_uri: 'https://switchboard.test/slack/oauth_redirect' }),
    );
    assert.ok(new URL(ok).searchParams.get('code'));
  });

  it('redirects a plain GET of the authorize URL, approving as Ada in Acme, and shows an error page for a bad request', async () => {
    const response = await fetch(authorizeUrl(slack, { scope: 'chat:write', state: 'xyz' }), { redirect: 'manual' });
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location') ?? '');
    assert.equal(location.searchParams.get('state'), 'xyz');
    const result = await access(slack, { code: location.searchParams.get('code') as string, redirect_uri: REDIRECT });
    assert.equal(result.authed_user?.id, 'U0ADA00001');
    const bad = await fetch(authorizeUrl(slack, { scope: 'nope' }), { redirect: 'manual' });
    assert.equal(bad.status, 400);
  });

  it('redirects with error=access_denied when the user cancels', () => {
    const redirect = new URL(
      slack.approveInstall(authorizeUrl(slack, { scope: 'chat:write', state: 's' }), { deny: true }),
    );
    assert.equal(redirect.searchParams.get('error'), 'access_denied');
    assert.equal(redirect.searchParams.get('state'), 's');
    assert.equal(redirect.searchParams.get('code'), null);
  });

  it('installs into a second workspace through @slack/oauth’s InstallProvider', async () => {
    slack.addTeam();
    const stored: Installation[] = [];
    const installer = new InstallProvider({
      clientId: slack.clientId,
      clientSecret: slack.clientSecret,
      stateVerification: false,
      logLevel: LogLevel.ERROR,
      authorizationUrl: slack.oauth.authorizeUrl,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
      installationStore: {
        storeInstallation: async (installation) => {
          stored.push(installation as Installation);
        },
        fetchInstallation: async () => {
          throw new Error('not used');
        },
      },
    });
    const callback: Server = createServer((req, res) => {
      void installer.handleCallback(req, res, undefined, {
        scopes: ['chat:write', 'channels:read'],
        redirectUri: callbackUrl,
      });
    });
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', () => resolve()));
    const callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/slack/oauth_redirect`;
    try {
      const url = await installer.generateInstallUrl(
        { scopes: ['chat:write', 'channels:read'], redirectUri: callbackUrl },
        false,
      );
      const redirect = slack.approveInstall(url, { teamId: 'T0GLOBEX01', userId: 'U0HOMER001' });
      const response = await fetch(redirect);
      assert.equal(response.status, 200);
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.team?.id, 'T0GLOBEX01');
      assert.equal(stored[0]?.bot?.id, 'B0BOTGLBX1');
      assert.equal(stored[0]?.bot?.userId, 'U0BOTGLBX1');
      assert.deepEqual(stored[0]?.bot?.scopes, ['chat:write', 'channels:read']);
      assert.equal(stored[0]?.user.id, 'U0HOMER001');
      assert.deepEqual(
        slack.calls.map((c) => [c.method, c.ok]),
        [
          ['oauth.v2.access', true],
          ['auth.test', true],
        ],
      );
      slack.assertNoRejectedCalls();
    } finally {
      await new Promise<void>((resolve) => callback.close(() => resolve()));
    }
  });

  it('keeps the bot token across a re-install and adds the new scopes', async () => {
    const install = async (scope: string) => {
      const code = new URL(slack.approveInstall(authorizeUrl(slack, { scope }))).searchParams.get('code') as string;
      return access(slack, { code, redirect_uri: REDIRECT });
    };
    const first = await install('chat:write');
    const second = await install('users:read');
    assert.equal(second.access_token, first.access_token);
    assert.equal(second.scope, 'chat:write,users:read');
  });
});
