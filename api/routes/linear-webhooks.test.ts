import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { toChange } from '../../domain/linear/inbound-webhook.ts';
import { workflowIds } from '../../temporal-config/index.ts';
import { createLinearFake, type LinearFake } from '../../test/fakes/linear/server.ts';
import { signWebhookBody } from '../../test/fakes/linear/webhooks.ts';
import { createTestOrganization, type TestUser } from '../../test/support/api.ts';
import { createTicket, insertLink, type LinearTestApi, signalsOf, startLinearTestApi } from './linear-test-support.ts';

describe('Linear API: inbound webhooks', () => {
  let linear: LinearFake;
  let api: LinearTestApi;
  let admin: TestUser;
  let integrationId: string;
  let secret: string;

  before(async () => {
    linear = await createLinearFake();
    api = await startLinearTestApi(linear);
    admin = await createTestOrganization({ api });
    const created = await admin.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey });
    integrationId = created.body.id;
    const registered = await admin.fetch('POST', `/api/linear/installations/${integrationId}/webhook`, {});
    assert.equal(registered.body.registered, true);
    secret = linear.state.webhooks.get(registered.body.webhookId)!.secret;
  });
  afterEach(() => linear.assertNoRejectedOperations());
  after(async () => {
    await api?.close();
    await linear?.close();
  });

  /** A Linear issue linked to a new ticket, as the issue workflow leaves it. */
  async function linkedIssue(title = 'Checkout fails') {
    const issue = linear.simulate.createIssue({ title, teamKey: 'ENG' });
    await linear.webhooks.settle();
    const ticketId = await createTicket(admin);
    const identifier = linear.state.identifier(issue);
    await insertLink({
      organizationId: admin.organizationId,
      ticketId,
      integrationId,
      issue: { id: issue.id, identifier },
    });
    return { issueId: issue.id, ticketId, workflowId: workflowIds.linearSync(ticketId, issue.id) };
  }

  const lastDelivery = () => linear.webhooks.deliveries.at(-1)!;

  async function post(id: string, body: string, headers: Record<string, string>) {
    const response = await fetch(`${api.baseUrl}/api/linear/webhooks/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body,
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  it('hands a signed issue update to the link’s sync workflow (started if need be)', async () => {
    const { issueId, workflowId } = await linkedIssue();
    linear.simulate.updateIssue(issueId, { stateName: 'In Progress' });
    await linear.webhooks.settle();
    assert.equal(lastDelivery().status, 200, lastDelivery().error);
    assert.deepEqual(await signalsOf(workflowId), ['linearChange']);

    // Linear retrying the same delivery is harmless here; the workflow drops a delivery id it has seen.
    await linear.webhooks.redeliver(lastDelivery().deliveryId);
    assert.equal(lastDelivery().status, 200);
  });

  it('hands a new Linear comment over too, and answers 200 for an issue nobody linked', async () => {
    const { issueId, workflowId } = await linkedIssue();
    linear.simulate.createComment(issueId, 'Reproduced on staging');
    await linear.webhooks.settle();
    assert.equal(lastDelivery().event, 'Comment');
    assert.equal(lastDelivery().status, 200);
    assert.deepEqual(await signalsOf(workflowId), ['linearChange']);

    const loose = linear.simulate.createIssue({ title: 'Not linked', teamKey: 'ENG' });
    linear.simulate.updateIssue(loose.id, { stateName: 'Done' });
    await linear.webhooks.settle();
    assert.equal(lastDelivery().status, 200);
  });

  it('hands the move of a linked issue to a team it may not link to its link (which pauses), but not the comments made there', async () => {
    const eng = linear.state.teamByKey('ENG')!;
    const configured = await admin.fetch('PATCH', `/api/integrations/${integrationId}`, { config: { teamId: eng.id } });
    assert.equal(configured.status, 200, JSON.stringify(configured.body));
    try {
      const { issueId, workflowId } = await linkedIssue();
      linear.simulate.updateIssue(issueId, { teamId: linear.state.teamByKey('SUP')!.id, stateName: 'Todo' });
      await linear.webhooks.settle();
      assert.equal(lastDelivery().status, 200, lastDelivery().error);
      assert.deepEqual(await signalsOf(workflowId), ['linearChange']);
      linear.simulate.createComment(issueId, 'Internal: salary band for this customer');
      await linear.webhooks.settle();
      assert.equal(lastDelivery().event, 'Comment');
      assert.equal(lastDelivery().status, 200);
      assert.deepEqual(await signalsOf(workflowId), ['linearChange'], 'the comment reached no link');
    } finally {
      await admin.fetch('PATCH', `/api/integrations/${integrationId}`, { config: { teamId: null } });
    }
  });

  it('refuses a bad signature, a missing one and a stale timestamp, and signals nothing', async () => {
    const { issueId, workflowId } = await linkedIssue();
    linear.webhooks.forgeNext({ signature: 'bad' });
    linear.simulate.updateIssue(issueId, { priority: 1 });
    linear.webhooks.forgeNext({ signature: 'missing' });
    linear.simulate.updateIssue(issueId, { priority: 2 });
    linear.webhooks.forgeNext({ timestampAgeMs: 5 * 60_000 });
    linear.simulate.updateIssue(issueId, { priority: 3 });
    await linear.webhooks.settle();
    const [bad, missing, stale] = linear.webhooks.deliveries.slice(-3);
    assert.equal(bad!.status, 401);
    assert.equal(missing!.status, 401);
    assert.equal(stale!.status, 400);
    assert.deepEqual(await signalsOf(workflowId), []);
  });

  it('refuses a body signed with another installation’s secret, and answers 404 for an unknown one', async () => {
    const { issueId, workflowId } = await linkedIssue();
    const stranger = await createTestOrganization({ api });
    const theirs = await stranger.fetch('POST', '/api/linear/installations', {
      apiKey: linear.issueApiKey('grace@acme.test'),
    });
    await stranger.fetch('PUT', `/api/linear/installations/${theirs.body.id}/webhook-secret`, {
      secret: 'the-strangers-secret',
    });
    const body = JSON.stringify({
      action: 'update',
      type: 'Issue',
      data: { id: issueId, updatedAt: new Date().toISOString() },
      webhookTimestamp: Date.now(),
    });
    // Signed for our installation but posted to theirs, and the other way round.
    const crossed = await post(theirs.body.id, body, { 'linear-signature': signWebhookBody(body, secret) });
    assert.equal(crossed.status, 401);
    const forged = await post(integrationId, body, {
      'linear-signature': signWebhookBody(body, 'the-strangers-secret'),
    });
    assert.equal(forged.status, 401);
    const unknown = await post(randomUUID(), body, { 'linear-signature': signWebhookBody(body, secret) });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await signalsOf(workflowId), []);

    // A hand-made, correctly signed delivery goes through (the bytes are what was signed, whatever the spacing).
    const spaced = JSON.stringify(JSON.parse(body), null, 2);
    const good = await post(integrationId, spaced, {
      'linear-signature': signWebhookBody(spaced, secret),
      'linear-delivery': randomUUID(),
    });
    assert.equal(good.status, 200);
    assert.deepEqual(good.body, { received: true, links: 1 });
    assert.deepEqual(await signalsOf(workflowId), ['linearChange']);
  });

  it('reads nothing of a body before its signature is proven: an unsigned non-JSON body is a 401, not a 400', async () => {
    const junk = await post(integrationId, '{not json', { 'linear-signature': signWebhookBody('{}', secret) });
    assert.equal(junk.status, 401);
    const signedJunk = await post(integrationId, '{not json', {
      'linear-signature': signWebhookBody('{not json', secret),
    });
    assert.equal(signedJunk.status, 400);
  });

  it('refuses a signed body without webhookTimestamp (no freshness to check)', async () => {
    const body = JSON.stringify({ action: 'update', type: 'Issue', data: { id: randomUUID() } });
    const response = await post(integrationId, body, { 'linear-signature': signWebhookBody(body, secret) });
    assert.equal(response.status, 400);
  });

  it('answers 404 once the installation is disconnected', async () => {
    const key = linear.issueApiKey('linus@acme.test');
    const created = await admin.fetch('POST', '/api/linear/installations', { apiKey: key });
    await admin.fetch('PUT', `/api/linear/installations/${created.body.id}/webhook-secret`, {
      secret: 'linus-webhook-secret',
    });
    const body = JSON.stringify({ action: 'update', type: 'Issue', data: { id: 'x' }, webhookTimestamp: Date.now() });
    const headers = { 'linear-signature': signWebhookBody(body, 'linus-webhook-secret') };
    assert.equal((await post(created.body.id, body, headers)).status, 200);
    await admin.fetch('POST', `/api/linear/installations/${created.body.id}/disconnect`, {});
    assert.equal((await post(created.body.id, body, headers)).status, 404);
  });

  it('turns Linear’s payloads into the changes the link workflow takes', () => {
    const comment = toChange(
      {
        type: 'Comment',
        action: 'create',
        actor: { id: 'user-g', name: 'Grace' },
        data: {
          id: 'c1',
          body: 'Looks fixed',
          issueId: 'i1',
          userId: 'user-g',
          user: { id: 'user-g', name: 'Grace Hopper' },
          createdAt: '2026-01-01T10:00:00.000Z',
          updatedAt: '2026-01-01T10:00:00.000Z',
        },
      },
      'delivery-1',
    );
    assert.deepEqual(comment, {
      deliveryId: 'delivery-1',
      type: 'Comment',
      action: 'create',
      issueId: 'i1',
      updatedAt: '2026-01-01T10:00:00.000Z',
      actorId: 'user-g',
      comment: {
        id: 'c1',
        body: 'Looks fixed',
        authorName: 'Grace Hopper',
        authorId: 'user-g',
        createdAt: '2026-01-01T10:00:00.000Z',
      },
    });
    const update = toChange(
      { type: 'Issue', action: 'remove', data: { id: 'i1', updatedAt: '2026-01-02T00:00:00.000Z' } },
      'd2',
    );
    assert.deepEqual(update, {
      deliveryId: 'd2',
      type: 'Issue',
      action: 'remove',
      issueId: 'i1',
      updatedAt: '2026-01-02T00:00:00.000Z',
      actorId: null,
    });
    assert.equal(toChange({ type: 'Issue', action: 'create', data: { id: 'i1' } }, 'd3'), null);
    assert.equal(toChange({ type: 'Comment', action: 'update', data: { id: 'c1', issueId: 'i1' } }, 'd4'), null);
    assert.equal(toChange({ type: 'Attachment', action: 'create', data: { id: 'a1' } }, 'd5'), null);
  });

  it('keeps the route out of the session and the JSON body parser', async () => {
    // No cookie, no API key, a content type the /api routes refuse: still verified on its own terms.
    const body = 'not json';
    const response = await fetch(`${api.baseUrl}/api/linear/webhooks/${integrationId}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'linear-signature': signWebhookBody(body, secret) },
      body,
    });
    assert.equal(response.status, 400);
  });
});
