// The fake's OAuth 2.0 endpoints and credentials, exercised the way the integration's connect flow will.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { AuthenticationLinearError, LinearClient } from '@linear/sdk';
import { createLinearFake, type LinearFake } from './server.ts';

const REDIRECT = 'http://127.0.0.1:9/integrations/linear/callback';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Follows the authorize redirect (the fake approves at once) and returns the callback's query parameters. */
async function authorize(fake: LinearFake, params: Record<string, string>): Promise<URLSearchParams> {
  const url = new URL(fake.oauth.authorizeUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const response = await fetch(url, { redirect: 'manual' });
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get('location') ?? '');
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
  return location.searchParams;
}

async function token(fake: LinearFake, form: Record<string, string>) {
  const response = await fetch(fake.oauth.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Linear fake: OAuth and credentials', () => {
  let fake: LinearFake;
  beforeEach(async () => {
    fake = await createLinearFake();
  });
  afterEach(async () => {
    await fake.close();
  });

  const authorizeParams = (extra: Record<string, string> = {}) => ({
    client_id: fake.oauth.client.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'read,write,admin',
    state: 'csrf-123',
    ...extra,
  });

  it('runs the authorization-code flow with PKCE S256 and the token works with the SDK', async () => {
    const { verifier, challenge } = pkce();
    const callback = await authorize(
      fake,
      authorizeParams({ code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    assert.equal(callback.get('state'), 'csrf-123');
    const code = callback.get('code');
    assert.ok(code);

    const wrong = await token(fake, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: fake.oauth.client.clientId,
      code_verifier: `${verifier}x`,
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');

    const granted = await token(fake, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: fake.oauth.client.clientId,
      client_secret: fake.oauth.client.clientSecret,
      code_verifier: verifier,
    });
    assert.equal(granted.status, 200);
    assert.equal(granted.body.token_type, 'Bearer');
    assert.equal(granted.body.expires_in, 24 * 3600);
    assert.deepEqual(granted.body.scope, ['read', 'write', 'admin']);
    assert.equal(typeof granted.body.refresh_token, 'string');

    const client = new LinearClient({ accessToken: String(granted.body.access_token), apiUrl: fake.graphqlUrl });
    assert.equal((await client.viewer).email, 'ada@acme.test');

    const replay = await token(fake, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: fake.oauth.client.clientId,
      client_secret: fake.oauth.client.clientSecret,
      code_verifier: verifier,
    });
    assert.equal(replay.body.error, 'invalid_grant', 'a code is good for one exchange');
  });

  it('requires the client secret when the flow had no PKCE challenge, and a form-encoded body', async () => {
    const code = (await authorize(fake, authorizeParams())).get('code') ?? '';
    const base = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: fake.oauth.client.clientId,
    };
    assert.equal((await token(fake, base)).body.error, 'invalid_client');
    assert.equal((await token(fake, { ...base, client_secret: 'wrong' })).body.error, 'invalid_client');
    const json = await fetch(fake.oauth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...base, client_secret: fake.oauth.client.clientSecret }),
    });
    assert.equal(json.status, 400);
    assert.equal((await token(fake, { ...base, client_secret: fake.oauth.client.clientSecret })).status, 200);
  });

  it('sends errors back to the redirect URI with the state, and refuses unknown clients outright', async () => {
    fake.oauth.denyNext();
    const denied = await authorize(fake, authorizeParams());
    assert.equal(denied.get('error'), 'access_denied');
    assert.equal(denied.get('state'), 'csrf-123');
    assert.equal((await authorize(fake, authorizeParams({ scope: 'read,everything' }))).get('error'), 'invalid_scope');
    const unknown = await fetch(
      `${fake.oauth.authorizeUrl}?client_id=nope&redirect_uri=${REDIRECT}&response_type=code`,
      {
        redirect: 'manual',
      },
    );
    assert.equal(unknown.status, 400);
  });

  it('refreshes by rotating the refresh token: the old one is refused, and each refresh is counted', async () => {
    const code = (await authorize(fake, authorizeParams())).get('code') ?? '';
    const client = { client_id: fake.oauth.client.clientId, client_secret: fake.oauth.client.clientSecret };
    const first = await token(fake, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...client });
    const refreshed = await token(fake, {
      grant_type: 'refresh_token',
      refresh_token: String(first.body.refresh_token),
      ...client,
    });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.body.access_token, first.body.access_token);
    assert.notEqual(refreshed.body.refresh_token, first.body.refresh_token);
    assert.equal(fake.oauth.refreshCount(), 1);

    // A second refresher racing with the first would present the same, now rotated, token.
    const raced = await token(fake, {
      grant_type: 'refresh_token',
      refresh_token: String(first.body.refresh_token),
      ...client,
    });
    assert.equal(raced.status, 400);
    assert.equal(raced.body.error, 'invalid_grant');
    assert.equal(fake.oauth.refreshCount(), 2);
    assert.deepEqual(
      fake.oauth.calls.filter((c) => c.grantType === 'refresh_token').map((c) => c.outcome),
      ['ok', 'invalid_grant'],
    );

    const sdk = new LinearClient({ accessToken: String(refreshed.body.access_token), apiUrl: fake.graphqlUrl });
    assert.equal((await sdk.viewer).email, 'ada@acme.test');
  });

  it('expires access tokens after the configured lifetime: the SDK raises AuthenticationLinearError', async () => {
    fake.oauth.setAccessTokenTtl(50);
    const accessToken = fake.oauth.issueAccessToken();
    const client = new LinearClient({ accessToken, apiUrl: fake.graphqlUrl });
    assert.ok(await client.viewer);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await assert.rejects(client.viewer, (error: unknown) => {
      assert.ok(error instanceof AuthenticationLinearError);
      assert.equal(error.status, 401);
      return true;
    });
  });

  it('revokes the whole authorization through the revoke endpoint: access and refresh tokens stop working', async () => {
    const code = (await authorize(fake, authorizeParams())).get('code') ?? '';
    const client = { client_id: fake.oauth.client.clientId, client_secret: fake.oauth.client.clientSecret };
    const granted = await token(fake, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...client });
    const revoke = await fetch(fake.oauth.revokeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: String(granted.body.access_token), token_type_hint: 'access_token' }),
    });
    assert.equal(revoke.status, 200);
    const sdk = new LinearClient({ accessToken: String(granted.body.access_token), apiUrl: fake.graphqlUrl });
    await assert.rejects(sdk.viewer, AuthenticationLinearError);
    const refresh = await token(fake, {
      grant_type: 'refresh_token',
      refresh_token: String(granted.body.refresh_token),
      ...client,
    });
    assert.equal(refresh.body.error, 'invalid_grant');
  });

  it('revokes a token from the test side (a user disconnecting the app in Linear)', async () => {
    const accessToken = fake.oauth.issueAccessToken();
    const client = new LinearClient({ accessToken, apiUrl: fake.graphqlUrl });
    assert.ok(await client.viewer);
    fake.failures.revokeToken(accessToken);
    await assert.rejects(client.viewer, AuthenticationLinearError);
  });

  it('takes personal API keys bare and OAuth tokens as Bearer, and nothing else', async () => {
    const bare = await fetch(fake.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: fake.apiKey },
      body: JSON.stringify({ query: '{ viewer { id } }' }),
    });
    assert.equal(bare.status, 200);
    // LinearClient({ accessToken: apiKey }) would send "Bearer lin_api_...": Linear refuses that.
    const misused = new LinearClient({ accessToken: fake.apiKey, apiUrl: fake.graphqlUrl });
    await assert.rejects(misused.viewer, AuthenticationLinearError);
    const noAuth = await fetch(fake.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { id } }' }),
    });
    assert.equal(noAuth.status, 401);
    const body = (await noAuth.json()) as { errors: Array<{ extensions: { code: string; type: string } }> };
    assert.equal(body.errors[0]?.extensions.code, 'AUTHENTICATION_ERROR');
    assert.equal(body.errors[0]?.extensions.type, 'authentication error');
    const graceKey = new LinearClient({ apiKey: fake.issueApiKey('grace@acme.test'), apiUrl: fake.graphqlUrl });
    assert.equal((await graceKey.viewer).name, 'Grace Hopper');
  });

  it('with actor=app the application acts as its own user, and its changes carry that user', async () => {
    const code = (await authorize(fake, authorizeParams({ actor: 'app' }))).get('code') ?? '';
    const granted = await token(fake, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: fake.oauth.client.clientId,
      client_secret: fake.oauth.client.clientSecret,
    });
    const client = new LinearClient({ accessToken: String(granted.body.access_token), apiUrl: fake.graphqlUrl });
    const viewer = await client.viewer;
    assert.equal(viewer.app, true);
    assert.equal(viewer.name, 'Switchboard');
    const eng = fake.state.teamByKey('ENG');
    const issue = await (await client.createIssue({ teamId: eng?.id ?? '', title: 'by the app' })).issue;
    assert.equal((await issue?.creator)?.id, viewer.id);
  });
});
