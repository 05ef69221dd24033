import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { auditLog, integrationConfigs, linearOauthStates } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import { hashOAuthState } from '../../common/linear/oauth.ts';
import { workflowIds } from '../../temporal-config/index.ts';
import { createLinearFake, type LinearFake } from '../../test/fakes/linear/server.ts';
import { addTestMember, createTestOrganization, signIn, type TestUser } from '../../test/support/api.ts';
import { testDatabase } from '../../test/support/database.ts';
import {
  createTicket,
  insertLink,
  type LinearTestApi,
  navigate,
  signalsOf,
  startLinearTestApi,
} from './linear-test-support.ts';

describe('Linear API: connecting an installation', () => {
  let linear: LinearFake;
  let api: LinearTestApi;
  let admin: TestUser;

  before(async () => {
    linear = await createLinearFake();
    api = await startLinearTestApi(linear);
    admin = await createTestOrganization({ api });
  });
  afterEach(() => linear.assertNoRejectedOperations());
  after(async () => {
    await api?.close();
    await linear?.close();
  });

  const credentialsOf = (user: TestUser, id: string) =>
    loadIntegrationCredentials(api.deps.db, api.deps.config.credentialKeys, user.organizationId, id);

  /** The browser part: our authorize URL, Linear's consent (the fake approves at once), back to our callback. */
  async function oauthDance(user: TestUser, query = '') {
    const started = await user.fetch('GET', `/api/linear/oauth/authorize${query}`);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const consent = await navigate(api, null, started.body.authorizeUrl);
    assert.equal(consent.status, 302);
    const callback = consent.location!;
    assert.ok(callback.startsWith(`${api.baseUrl}/api/linear/oauth/callback?`), callback);
    const back = await navigate(api, user, callback);
    return { authorizeUrl: new URL(started.body.authorizeUrl), callback, back };
  }

  function connectedId(back: { status: number; location: string | null }): string {
    assert.equal(back.status, 302);
    const location = new URL(back.location!, api.baseUrl);
    assert.equal(location.pathname, '/settings/integrations', back.location!);
    assert.equal(location.searchParams.get('linear'), 'connected', back.location!);
    return location.searchParams.get('integration')!;
  }

  function errorReason(back: { status: number; location: string | null }): string | null {
    assert.equal(back.status, 302);
    const location = new URL(back.location!, api.baseUrl);
    assert.equal(location.pathname, '/settings/integrations');
    assert.equal(location.searchParams.get('linear'), 'error');
    return location.searchParams.get('reason');
  }

  describe('OAuth', () => {
    it('connects through the authorization-code flow with state and PKCE, storing the grant sealed', async () => {
      const { authorizeUrl, back } = await oauthDance(admin);
      assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorizeUrl.searchParams.get('code_challenge'));
      assert.ok(authorizeUrl.searchParams.get('state'));
      assert.equal(authorizeUrl.searchParams.get('redirect_uri'), `${api.baseUrl}/api/linear/oauth/callback`);
      const id = connectedId(back);

      const integration = await admin.fetch('GET', `/api/integrations/${id}`);
      assert.equal(integration.status, 200);
      assert.equal(integration.body.integrationType, 'linear');
      assert.deepEqual(integration.body.config.workspace, {
        id: linear.state.organization.id,
        name: 'Acme',
        urlKey: 'acme',
      });
      assert.equal(integration.body.config.actor, 'user');
      assert.equal(integration.body.config.viewerId, linear.state.userByEmail('ada@acme.test')!.id);

      const credentials = await credentialsOf(admin, id);
      assert.ok(typeof credentials?.accessToken === 'string' && typeof credentials.refreshToken === 'string');
      assert.ok((credentials.expiresAt as number) > Date.now());
      assert.ok(!JSON.stringify(integration.body).includes(credentials.accessToken as string));
      // The fake accepts a code with a PKCE challenge only with the matching verifier.
      const exchange = linear.oauth.calls.filter((c) => c.endpoint === 'token').at(-1)!;
      assert.equal(exchange.grantType, 'authorization_code');
      assert.equal(exchange.outcome, 'ok');

      const [audit] = await testDatabase()
        .db.select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, id), eq(auditLog.action, 'linear.connected')));
      assert.ok(audit);
      assert.ok(!JSON.stringify(audit.metadata).includes(credentials.accessToken as string));
    });

    it('asks Linear for actor=app when the admin wants changes to appear as the application', async () => {
      const { authorizeUrl, back } = await oauthDance(admin, '?actor=app');
      assert.equal(authorizeUrl.searchParams.get('actor'), 'app');
      const id = connectedId(back);
      const integration = await admin.fetch('GET', `/api/integrations/${id}`);
      assert.equal(integration.body.config.actor, 'app');
    });

    it('refuses a state used twice, an expired one, and one started by another admin', async () => {
      const { callback, back } = await oauthDance(admin);
      connectedId(back);
      assert.equal(errorReason(await navigate(api, admin, callback)), 'invalid_state');

      // Expired: approved in Linear, but after the ten minutes.
      const started = await admin.fetch('GET', '/api/linear/oauth/authorize');
      const state = new URL(started.body.authorizeUrl).searchParams.get('state')!;
      await testDatabase()
        .db.update(linearOauthStates)
        .set({ expiresAt: sql`now() - interval '1 minute'` })
        .where(eq(linearOauthStates.stateHash, hashOAuthState(state)));
      const late = await navigate(api, null, started.body.authorizeUrl);
      assert.equal(errorReason(await navigate(api, admin, late.location!)), 'expired_state');

      // Another admin of the same organisation carrying this admin's callback gets nothing; the owner still can.
      const other = await addTestMember(admin.organizationId, { role: 'admin', api });
      const mine = await admin.fetch('GET', '/api/linear/oauth/authorize');
      const approved = await navigate(api, null, mine.body.authorizeUrl);
      assert.equal(errorReason(await navigate(api, other, approved.location!)), 'invalid_state');
      connectedId(await navigate(api, admin, approved.location!));
    });

    it('completes only in the browser session that started it: not another session of the same admin, not an API key', async () => {
      const started = await admin.fetch('GET', '/api/linear/oauth/authorize');
      assert.equal(started.status, 200);
      const approved = await navigate(api, null, started.body.authorizeUrl);
      const callback = approved.location!;

      // Session B: the same admin signed in again (another browser, or a stolen callback URL).
      const sessionB = { ...admin, cookie: await signIn(api, admin.email, admin.password) };
      assert.notEqual(sessionB.cookie, admin.cookie);
      // A browser navigation: sent back to the integrations page, which says why, not shown a JSON error.
      assert.equal(errorReason(await navigate(api, sessionB, callback)), 'session_mismatch');

      // An API key of the same admin.
      const fromKey = await fetch(callback, {
        redirect: 'manual',
        headers: { authorization: `Bearer ${admin.apiKey}` },
      });
      assert.equal(fromKey.status, 403);
      assert.equal(((await fromKey.json()) as { error: { code: string } }).error.code, 'session_required');
      // Nothing was exchanged: the code is still unused at Linear.
      const exchanges = linear.oauth.calls.filter((c) => c.endpoint === 'token').length;

      // Session A, which started it, still completes it (neither refusal used up the state).
      connectedId(await navigate(api, admin, callback));
      assert.equal(linear.oauth.calls.filter((c) => c.endpoint === 'token').length, exchanges + 1);

      // An API key cannot start a flow either: Linear could never bring it back.
      const byKey = await admin.fetch('GET', '/api/linear/oauth/authorize', undefined, { as: 'apiKey' });
      assert.equal(byKey.status, 403);
      assert.equal(byKey.body.error.code, 'session_required');
    });

    it('refuses a callback with a state nobody issued; without a session it sends the browser to sign in', async () => {
      const forged = `/api/linear/oauth/callback?code=abc&state=${randomUUID()}`;
      assert.equal(errorReason(await navigate(api, admin, forged)), 'invalid_state');
      const signedOut = await navigate(api, null, forged);
      assert.equal(signedOut.status, 302);
      const login = new URL(signedOut.location!, api.baseUrl);
      assert.equal(login.pathname, '/login');
      assert.equal(login.searchParams.get('next'), '/settings/integrations?linear=error&reason=signed_out');
    });

    it('returns to the dashboard with access_denied when the admin cancels in Linear', async () => {
      const before = await admin.fetch('GET', '/api/integrations');
      linear.oauth.denyNext();
      const { back } = await oauthDance(admin);
      assert.equal(errorReason(back), 'access_denied');
      const after = await admin.fetch('GET', '/api/integrations');
      assert.equal(after.body.data.length, before.body.data.length);
    });

    it('reconnects an installation in place: same id, new grant, webhook secret kept, failed links resumed', async () => {
      const id = connectedId((await oauthDance(admin)).back);
      const first = await credentialsOf(admin, id);
      // The webhook secret an admin pasted earlier, and a link that failed when the token was revoked.
      const put = await admin.fetch('PUT', `/api/linear/installations/${id}/webhook-secret`, {
        secret: 'pasted-secret-123456',
      });
      assert.equal(put.status, 204);
      linear.failures.revokeToken(first!.accessToken as string);
      const ticketId = await createTicket(admin);
      const issueId = randomUUID();
      await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId: id,
        issue: { id: issueId, identifier: 'ENG-77' },
        syncStatus: 'failed',
        lastError: 'Linear refused the access token',
      });
      const syncedIssue = randomUUID();
      await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId: id,
        issue: { id: syncedIssue, identifier: 'ENG-78' },
      });
      await testDatabase()
        .db.update(integrationConfigs)
        .set({ lastError: 'token revoked', lastErrorAt: new Date() })
        .where(eq(integrationConfigs.id, id));

      const again = connectedId((await oauthDance(admin, `?integrationId=${id}`)).back);
      assert.equal(again, id);
      const second = await credentialsOf(admin, id);
      assert.notEqual(second!.accessToken, first!.accessToken);
      assert.equal(second!.webhookSecret, 'pasted-secret-123456');
      const integration = await admin.fetch('GET', `/api/integrations/${id}`);
      assert.equal(integration.body.health.lastError, null);
      assert.equal(integration.body.isActive, true);
      assert.deepEqual(await signalsOf(workflowIds.linearSync(ticketId, issueId)), ['resume']);
      assert.deepEqual(await signalsOf(workflowIds.linearSync(ticketId, syncedIssue)), []);
    });

    it('lets only admins start, and names a reconnect target that is not an installation of theirs as 404', async () => {
      const agent = await addTestMember(admin.organizationId, { role: 'agent', api });
      assert.equal((await agent.fetch('GET', '/api/linear/oauth/authorize')).status, 403);
      const stranger = await createTestOrganization({ api });
      const theirs = await stranger.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey });
      assert.equal(theirs.status, 201);
      const response = await admin.fetch('GET', `/api/linear/oauth/authorize?integrationId=${theirs.body.id}`);
      assert.equal(response.status, 404);
      const bad = await admin.fetch('GET', '/api/linear/oauth/authorize?actor=robot');
      assert.equal(bad.status, 422);
      assert.equal(bad.body.error.details[0].path, 'query.actor');
    });

    it('says OAuth is not configured when the server has no Linear application', async () => {
      const bare = await startLinearTestApi(linear, { oauth: false, temporal: false });
      try {
        const user = await createTestOrganization({ api: bare });
        const response = await user.fetch('GET', '/api/linear/oauth/authorize');
        assert.equal(response.status, 409);
        assert.match(response.body.error.message, /LINEAR_CLIENT_ID/);
      } finally {
        await bare.close();
      }
    });
  });

  describe('API key', () => {
    it('connects with a key Linear accepts', async () => {
      const response = await admin.fetch('POST', '/api/linear/installations', {
        name: 'Acme Linear',
        apiKey: linear.apiKey,
      });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.name, 'Acme Linear');
      assert.equal(response.body.config.workspace.urlKey, 'acme');
      assert.ok(!JSON.stringify(response.body).includes(linear.apiKey));
      assert.equal((await credentialsOf(admin, response.body.id))!.apiKey, linear.apiKey);
    });

    it('refuses a key Linear refuses, naming apiKey, and stores nothing', async () => {
      const before = await admin.fetch('GET', '/api/integrations');
      const response = await admin.fetch('POST', '/api/linear/installations', {
        apiKey: 'lin_api_not_a_real_key_0000',
      });
      assert.equal(response.status, 422);
      assert.equal(response.body.error.details[0].path, 'body.apiKey');
      const after = await admin.fetch('GET', '/api/integrations');
      assert.equal(after.body.data.length, before.body.data.length);
    });

    it('checks the input and the role', async () => {
      const short = await admin.fetch('POST', '/api/linear/installations', { apiKey: 'x' });
      assert.equal(short.status, 422);
      assert.equal(short.body.error.details[0].path, 'body.apiKey');
      const extra = await admin.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey, team: 'ENG' });
      assert.equal(extra.status, 422);
      const viewer = await addTestMember(admin.organizationId, { role: 'viewer', api });
      assert.equal((await viewer.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey })).status, 403);
    });
  });

  describe('an installation', () => {
    let id: string;
    before(async () => {
      const response = await admin.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey });
      id = response.body.id;
    });

    it('lists the teams live, with their states in Linear’s order and their labels', async () => {
      const response = await admin.fetch('GET', `/api/linear/installations/${id}/teams`);
      assert.equal(response.status, 200);
      const eng = response.body.data.find((t: { key: string }) => t.key === 'ENG');
      assert.ok(eng);
      assert.deepEqual(
        eng.states.map((s: { name: string }) => s.name),
        ['Backlog', 'Todo', 'In Progress', 'In Review', 'Done', 'Canceled'],
      );
      const labels = eng.labels.map((l: { name: string }) => l.name);
      for (const name of ['Bug', 'Feature', 'Improvement', 'Customer']) assert.ok(labels.includes(name), name);
      assert.ok(response.body.data.some((t: { key: string }) => t.key === 'SUP'));
    });

    it('gives each team the status mapping the sync uses where none is configured, for the wizard to start from', async () => {
      type TeamView = {
        key: string;
        states: Array<{ id: string; name: string }>;
        defaultMapping: { statusToLinear: Record<string, string>; linearToStatus: Record<string, string> };
      };
      // A team without backlog or started states: the sync does not move its issues for a pending ticket.
      const ops = linear.state.addTeam({ key: 'OPS', name: 'Operations' });
      for (const state of linear.state.teamStates(ops.id)) {
        if (state.type === 'backlog' || state.type === 'started') linear.state.states.delete(state.id);
      }
      const response = await admin.fetch('GET', `/api/linear/installations/${id}/teams`);
      assert.equal(response.status, 200);
      const named = (team: TeamView) => {
        const name = (stateId: string) => team.states.find((s) => s.id === stateId)?.name;
        return {
          statusToLinear: Object.fromEntries(
            Object.entries(team.defaultMapping.statusToLinear).map(([status, stateId]) => [status, name(stateId)]),
          ),
          linearToStatus: Object.fromEntries(
            Object.entries(team.defaultMapping.linearToStatus).map(([stateId, status]) => [name(stateId), status]),
          ),
        };
      };
      const teams: TeamView[] = response.body.data;
      assert.deepEqual(named(teams.find((t) => t.key === 'ENG')!), {
        statusToLinear: { open: 'Todo', pending: 'In Progress', on_hold: 'Backlog', solved: 'Done', closed: 'Done' },
        linearToStatus: {
          Backlog: 'open',
          Todo: 'open',
          'In Progress': 'pending',
          'In Review': 'pending',
          Done: 'solved',
          Canceled: 'closed',
        },
      });
      assert.deepEqual(named(teams.find((t) => t.key === 'OPS')!), {
        statusToLinear: { open: 'Todo', on_hold: 'Todo', solved: 'Done', closed: 'Done' },
        linearToStatus: { Todo: 'open', Done: 'solved', Canceled: 'closed' },
      });
    });

    it('tests the connection, and reports a refused token as ok:false rather than an error', async () => {
      const eng = linear.state.teamByKey('ENG')!;
      await admin.fetch('PATCH', `/api/integrations/${id}`, { config: { teamId: eng.id, workspace: undefined } });
      const good = await admin.fetch('POST', `/api/linear/installations/${id}/test`, {});
      assert.equal(good.status, 200);
      assert.equal(good.body.ok, true, good.body.error);
      assert.equal(good.body.viewer.email, 'ada@acme.test');
      assert.equal(good.body.organization.urlKey, 'acme');
      assert.deepEqual(good.body.team, { id: eng.id, key: 'ENG', name: eng.name });
      assert.equal(good.body.webhook, 'missing');

      const key = linear.issueApiKey('grace@acme.test');
      const graces = await admin.fetch('POST', '/api/linear/installations', { apiKey: key });
      linear.failures.revokeToken(key);
      const refused = await admin.fetch('POST', `/api/linear/installations/${graces.body.id}/test`, {});
      assert.equal(refused.status, 200);
      assert.equal(refused.body.ok, false);
      assert.match(refused.body.error, /reconnect/i);
    });

    it('registers the webhook when the token has the admin scope, storing its id and secret', async () => {
      const response = await admin.fetch('POST', `/api/linear/installations/${id}/webhook`, {});
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.registered, true);
      assert.equal(response.body.url, `${api.baseUrl}/api/linear/webhooks/${id}`);
      const webhook = linear.state.webhooks.get(response.body.webhookId);
      assert.ok(webhook);
      assert.equal(webhook.url, response.body.url);
      assert.deepEqual([...webhook.resourceTypes].sort(), ['Comment', 'Issue']);
      const credentials = await credentialsOf(admin, id);
      assert.equal(credentials!.webhookSecret, webhook.secret);
      assert.ok(!JSON.stringify(response.body).includes(webhook.secret));
      const test = await admin.fetch('POST', `/api/linear/installations/${id}/test`, {});
      assert.equal(test.body.webhook, 'registered');

      // Registering again replaces the webhook rather than leaving the old one posting with a forgotten secret.
      const again = await admin.fetch('POST', `/api/linear/installations/${id}/webhook`, {});
      assert.equal(again.body.registered, true);
      assert.ok(!linear.state.webhooks.has(response.body.webhookId));
      assert.ok(linear.state.webhooks.has(again.body.webhookId));
    });

    it('without the admin scope, answers the URL to paste instead; the pasted secret is then stored', async () => {
      const token = linear.oauth.issueAccessToken({ scopes: ['read', 'write'] });
      const created = await admin.fetch('POST', '/api/integrations', {
        integrationType: 'linear',
        name: 'Linear without admin',
        config: {},
        credentials: { accessToken: token, scopes: ['read', 'write'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const oauthId = created.body.id;
      const response = await admin.fetch('POST', `/api/linear/installations/${oauthId}/webhook`, {});
      assert.equal(response.status, 200);
      assert.equal(response.body.registered, false);
      assert.equal(response.body.url, `${api.baseUrl}/api/linear/webhooks/${oauthId}`);
      assert.match(response.body.reason, /admin scope/);

      const tooShort = await admin.fetch('PUT', `/api/linear/installations/${oauthId}/webhook-secret`, { secret: 'x' });
      assert.equal(tooShort.status, 422);
      assert.equal(tooShort.body.error.details[0].path, 'body.secret');
      const put = await admin.fetch('PUT', `/api/linear/installations/${oauthId}/webhook-secret`, {
        secret: 'lin_wh_pasted_0123456789',
      });
      assert.equal(put.status, 204);
      assert.equal((await credentialsOf(admin, oauthId))!.webhookSecret, 'lin_wh_pasted_0123456789');
      const test = await admin.fetch('POST', `/api/linear/installations/${oauthId}/test`, {});
      assert.equal(test.body.webhook, 'secret-set');
    });

    it('switched back on through the integrations route, resumes the links that paused while it was off', async () => {
      const created = await admin.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey });
      const id = created.body.id;
      const ticketId = await createTicket(admin);
      const link = (status: 'failed' | 'synced', lastError?: string) => {
        const issueId = randomUUID();
        return insertLink({
          organizationId: admin.organizationId,
          ticketId,
          integrationId: id,
          issue: { id: issueId, identifier: 'ENG-90' },
          syncStatus: status,
          ...(lastError ? { lastError } : {}),
        }).then(() => workflowIds.linearSync(ticketId, issueId));
      };
      assert.equal((await admin.fetch('PATCH', `/api/integrations/${id}`, { isActive: false })).status, 200);
      const pausedWhileOff = await link('failed', 'LinearNotConnected: the Linear installation is switched off');
      const issueDeleted = await link('failed', 'LinearIssueNotFound: the Linear issue ENG-90 was deleted');
      const synced = await link('synced');

      const renamed = await admin.fetch('PATCH', `/api/integrations/${id}`, { name: 'Still off' });
      assert.equal(renamed.status, 200);
      assert.deepEqual(await signalsOf(pausedWhileOff), []);
      const on = await admin.fetch('PATCH', `/api/integrations/${id}`, { isActive: true });
      assert.equal(on.status, 200, JSON.stringify(on.body));
      assert.equal(on.body.isActive, true);
      assert.deepEqual(await signalsOf(pausedWhileOff), ['resume']);
      assert.deepEqual(await signalsOf(issueDeleted), []);
      assert.deepEqual(await signalsOf(synced), []);
      // Already on: nothing more to resume.
      assert.equal((await admin.fetch('PATCH', `/api/integrations/${id}`, { isActive: true })).status, 200);
      assert.deepEqual(await signalsOf(pausedWhileOff), ['resume']);
    });

    it('a new reconcile interval reaches the running links at once: each is told to reconcile now', async () => {
      const created = await admin.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey });
      const id = created.body.id;
      const ticketId = await createTicket(admin);
      const issueId = randomUUID();
      const linkId = await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId: id,
        issue: { id: issueId, identifier: 'ENG-91' },
      });
      // Another link whose workflow is not running: nothing to tell (a new run reads the settings).
      await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId: id,
        issue: { id: randomUUID(), identifier: 'ENG-92' },
      });
      const running = workflowIds.linearSync(ticketId, issueId);
      const started = await admin.fetch('POST', `/api/tickets/${ticketId}/linear-links/${linkId}/sync`, {});
      assert.equal(started.status, 202);
      assert.deepEqual(await signalsOf(running), ['reconcileNow']);

      const patch = (config: Record<string, unknown>) => admin.fetch('PATCH', `/api/integrations/${id}`, { config });
      assert.equal((await patch({ reconcileIntervalMinutes: 10, syncPriority: false })).status, 200);
      assert.deepEqual(await signalsOf(running), ['reconcileNow'], 'the interval did not change (10 is the default)');
      assert.equal((await patch({ reconcileIntervalMinutes: 2 })).status, 200);
      assert.deepEqual(await signalsOf(running), ['reconcileNow', 'reconcileNow']);
    });

    it('is another organisation’s 404, and an agent’s 403', async () => {
      const stranger = await createTestOrganization({ api });
      for (const [method, path] of [
        ['GET', `/api/linear/installations/${id}/teams`],
        ['POST', `/api/linear/installations/${id}/test`],
        ['POST', `/api/linear/installations/${id}/webhook`],
        ['PUT', `/api/linear/installations/${id}/webhook-secret`],
        ['POST', `/api/linear/installations/${id}/disconnect`],
      ] as const) {
        const body = method === 'PUT' ? { secret: 'someone-elses-secret' } : method === 'POST' ? {} : undefined;
        assert.equal((await stranger.fetch(method, path, body)).status, 404, `${method} ${path}`);
      }
      const agent = await addTestMember(admin.organizationId, { role: 'agent', api });
      assert.equal((await agent.fetch('GET', `/api/linear/installations/${id}/teams`)).status, 403);
      assert.equal((await admin.fetch('GET', `/api/linear/installations/${randomUUID()}/teams`)).status, 404);
      assert.equal((await admin.fetch('GET', '/api/linear/installations/not-a-uuid/teams')).status, 422);
    });
  });

  describe('disconnecting', () => {
    it('deletes the webhook, revokes the OAuth token, forgets the credentials and switches the installation off', async () => {
      const id = connectedId((await oauthDance(admin)).back);
      const credentials = await credentialsOf(admin, id);
      const registered = await admin.fetch('POST', `/api/linear/installations/${id}/webhook`, {});
      assert.equal(registered.body.registered, true);

      const response = await admin.fetch('POST', `/api/linear/installations/${id}/disconnect`, {});
      assert.equal(response.status, 204);
      assert.ok(!linear.state.webhooks.has(registered.body.webhookId));
      assert.ok(linear.oauth.calls.some((c) => c.endpoint === 'revoke'));
      const revoked = await fetch(linear.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${credentials!.accessToken}` },
        body: JSON.stringify({ query: '{ viewer { id } }' }),
      });
      assert.equal(revoked.status, 401);
      const integration = await admin.fetch('GET', `/api/integrations/${id}`);
      assert.equal(integration.body.isActive, false);
      assert.equal(integration.body.health.disabledReason, 'disconnected');
      assert.equal(integration.body.credentialsHint, null);
      assert.equal(integration.body.config.webhookId, undefined);
      assert.equal(await credentialsOf(admin, id), null);
    });

    it('revokes the token when the installation is deleted through the generic integrations route', async () => {
      const id = connectedId((await oauthDance(admin)).back);
      const credentials = await credentialsOf(admin, id);
      const revokes = linear.oauth.calls.filter((c) => c.endpoint === 'revoke').length;
      assert.equal((await admin.fetch('DELETE', `/api/integrations/${id}`)).status, 204);
      assert.equal(linear.oauth.calls.filter((c) => c.endpoint === 'revoke').length, revokes + 1);
      const revoked = await fetch(linear.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${credentials!.accessToken}` },
        body: JSON.stringify({ query: '{ viewer { id } }' }),
      });
      assert.equal(revoked.status, 401);
    });

    it('keeps a personal API key (only its owner can revoke it) but forgets it', async () => {
      const key = linear.issueApiKey('linus@acme.test');
      const created = await admin.fetch('POST', '/api/linear/installations', { apiKey: key });
      const response = await admin.fetch('POST', `/api/linear/installations/${created.body.id}/disconnect`, {});
      assert.equal(response.status, 204);
      assert.equal(await credentialsOf(admin, created.body.id), null);
    });
  });
});
