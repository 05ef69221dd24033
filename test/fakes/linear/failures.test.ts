// Rate limiting and the failure switches, as the integration's client code will experience them.
import assert from 'node:assert/strict';
import {
  InternalLinearError,
  LinearClient,
  LinearError,
  NetworkLinearError,
  RatelimitedLinearError,
} from '@linear/sdk';
import { createLinearFake, type LinearFake } from './server.ts';

const graphqlPost = (fake: LinearFake, body: { query: string; variables?: unknown }, signal?: AbortSignal) =>
  fetch(fake.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: fake.apiKey },
    body: JSON.stringify(body),
    signal,
  });
const viewerQuery = (fake: LinearFake, signal?: AbortSignal) =>
  graphqlPost(fake, { query: '{ viewer { id } }' }, signal);
const rawCreateIssue = (fake: LinearFake, teamId: string, title: string, signal?: AbortSignal) =>
  graphqlPost(
    fake,
    {
      query: 'mutation($input: IssueCreateInput!) { issueCreate(input: $input) { success } }',
      variables: { input: { teamId, title } },
    },
    signal,
  );

describe('Linear fake: rate limits and failures', () => {
  let fake: LinearFake;
  let client: LinearClient;
  beforeEach(async () => {
    fake = await createLinearFake({ requestsPerHour: 100 });
    client = new LinearClient({ apiKey: fake.apiKey, apiUrl: fake.graphqlUrl });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('reports the request budget on every response, counting down', async () => {
    const first = await viewerQuery(fake);
    const second = await viewerQuery(fake);
    assert.equal(first.headers.get('x-ratelimit-requests-limit'), '100');
    assert.equal(first.headers.get('x-ratelimit-requests-remaining'), '99');
    assert.equal(second.headers.get('x-ratelimit-requests-remaining'), '98');
    const reset = Number(first.headers.get('x-ratelimit-requests-reset'));
    assert.ok(
      reset > Date.now() && reset <= Date.now() + 3_600_000,
      'reset is an epoch in milliseconds within the hour',
    );
    const status = await client.rateLimitStatus;
    assert.equal(status.limits[0]?.remainingAmount, 97);
  });

  it('answers RATELIMITED on demand; the SDK raises RatelimitedLinearError with the reset time', async () => {
    fake.failures.rateLimitNext(2, { resetInMs: 30_000 });
    const raw = await viewerQuery(fake);
    assert.equal(raw.status, 400);
    assert.equal(raw.headers.get('x-ratelimit-requests-remaining'), '0');
    const body = (await raw.json()) as { errors: Array<{ extensions: { code: string } }> };
    assert.equal(body.errors[0]?.extensions.code, 'RATELIMITED');

    await assert.rejects(client.viewer, (error: unknown) => {
      assert.ok(error instanceof RatelimitedLinearError);
      assert.equal(error.requestsRemaining, 0);
      assert.equal(error.retryAfter, 30);
      assert.ok((error.requestsResetAt ?? 0) > Date.now());
      return true;
    });
    assert.ok(await client.viewer, 'the switch is used up after two requests');
  });

  it('rate limits for real once the hourly budget is spent', async () => {
    const tight = await createLinearFake({ requestsPerHour: 2 });
    try {
      const sdk = new LinearClient({ apiKey: tight.apiKey, apiUrl: tight.graphqlUrl });
      await sdk.viewer;
      await sdk.viewer;
      await assert.rejects(sdk.viewer, RatelimitedLinearError);
    } finally {
      await tight.close();
    }
  });

  it('fails the next request with a 500 on demand; the SDK raises InternalLinearError', async () => {
    fake.failures.failNext();
    await assert.rejects(client.viewer, (error: unknown) => {
      assert.ok(error instanceof InternalLinearError);
      assert.equal(error.status, 500);
      return true;
    });
    assert.ok(await client.viewer);
  });

  it('answers other statuses as a gateway in front of Linear would; the SDK raises NetworkLinearError', async () => {
    fake.failures.failNext(1, { status: 503 });
    await assert.rejects(client.viewer, (error: unknown) => {
      assert.ok(error instanceof NetworkLinearError);
      assert.equal(error.status, 503);
      return true;
    });
  });

  it('hangs the next request until the caller gives up', async () => {
    fake.failures.hangNext();
    await assert.rejects(viewerQuery(fake, AbortSignal.timeout(200)), { name: 'TimeoutError' });
    assert.equal((await viewerQuery(fake)).status, 200);
  });

  it('cuts the connection of the next request', async () => {
    fake.failures.dropConnectionNext();
    await assert.rejects(client.viewer, LinearError);
    assert.ok(await client.viewer);
  });

  it('can lose the answer of a request that took effect', async () => {
    fake.failures.dropResponseNext(1, { rootField: 'issueCreate' });
    const team = fake.state.teamByKey('ENG')!;
    assert.ok(await client.viewer, 'requests without that root field are answered');
    await assert.rejects(client.createIssue({ teamId: team.id, title: 'Lost answer' }));
    assert.equal(fake.state.issue('ENG-1').title, 'Lost answer', 'the issue was created all the same');
    assert.ok(await client.createIssue({ teamId: team.id, title: 'Answered' }));
  });

  it('can take a request into effect and then never answer it', async () => {
    fake.failures.hangAfterEffectNext(1, { rootField: 'issueCreate' });
    const team = fake.state.teamByKey('ENG')!;
    await assert.rejects(rawCreateIssue(fake, team.id, 'Never answered', AbortSignal.timeout(300)), {
      name: 'TimeoutError',
    });
    assert.equal(fake.state.issue('ENG-1').title, 'Never answered', 'the issue was created all the same');
    assert.ok(await client.createIssue({ teamId: team.id, title: 'Answered' }));
  });

  it('fails the token endpoint on demand, so refresh failures can be tested', async () => {
    fake.failures.failNext(1, { status: 503, target: 'oauth-token' });
    const response = await fetch(fake.oauth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    assert.equal(response.status, 503);
    assert.equal(((await response.json()) as { error: string }).error, 'server_error');
  });
});
