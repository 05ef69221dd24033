// The fake's webhooks, checked with the verifier the integration will use: @linear/sdk's LinearWebhookClient.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LinearClient } from '@linear/sdk';
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import { type GraphQLObjectType, getNamedType, isNonNullType, isObjectType } from 'graphql';
import { linearSchema } from './schema.ts';
import { createLinearFake, type LinearFake } from './server.ts';

const SECRET = 'lin_wh_test_secret';

/** A receiver built on the SDK's own handler: it answers 400 to anything the SDK does not verify. */
async function startSdkReceiver() {
  const verified: Array<Record<string, unknown>> = [];
  const statuses: number[] = [];
  const handler = new LinearWebhookClient(SECRET).createHandler();
  handler.on('*', (payload) => {
    verified.push(payload as unknown as Record<string, unknown>);
  });
  const server: Server = createServer(async (req, res) => {
    res.on('finish', () => statuses.push(res.statusCode));
    await handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/linear/webhook`,
    verified,
    statuses,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Non-null fields of a schema type that `value` lacks, recursing into nested payload objects. */
function missingRequiredFields(typeName: string, value: Record<string, unknown>, prefix = ''): string[] {
  const type = linearSchema().getType(typeName) as GraphQLObjectType;
  return Object.values(type.getFields()).flatMap((field) => {
    const fieldValue = value[field.name];
    if (isNonNullType(field.type) && (fieldValue === undefined || fieldValue === null))
      return [`${prefix}${field.name}`];
    const named = getNamedType(field.type);
    if (isObjectType(named) && fieldValue && typeof fieldValue === 'object' && !Array.isArray(fieldValue))
      return missingRequiredFields(named.name, fieldValue as Record<string, unknown>, `${prefix}${field.name}.`);
    return [];
  });
}

describe('Linear fake: webhooks', () => {
  let fake: LinearFake;
  let receiver: Awaited<ReturnType<typeof startSdkReceiver>>;
  beforeEach(async () => {
    fake = await createLinearFake();
    receiver = await startSdkReceiver();
    fake.webhooks.register({ url: receiver.url, secret: SECRET, resourceTypes: ['Issue', 'Comment', 'Attachment'] });
  });
  afterEach(async () => {
    await fake.close();
    await receiver.close();
  });

  it("signs deliveries as Linear does: the SDK verifies them, and the payload has Linear's envelope", async () => {
    const issue = fake.simulate.createIssue({ teamKey: 'ENG', title: 'From Linear' });
    fake.simulate.updateIssue(issue.id, { stateName: 'In Progress', assigneeEmail: 'linus@acme.test' });
    await fake.webhooks.settle();

    assert.deepEqual(receiver.statuses, [200, 200]);
    const [created, updated] = receiver.verified;
    assert.equal(created?.action, 'create');
    assert.equal(created?.type, 'Issue');
    assert.equal(updated?.action, 'update');
    assert.equal(updated?.organizationId, fake.state.organization.id);
    assert.equal(typeof updated?.webhookTimestamp, 'number');
    assert.equal(updated?.url, 'https://linear.app/acme/issue/ENG-1/from-linear');
    const data = updated?.data as Record<string, unknown>;
    assert.equal((data.state as { name: string }).name, 'In Progress');
    assert.equal((data.assignee as { email: string }).email, 'linus@acme.test');
    assert.equal((updated?.actor as { email: string } | undefined)?.email, 'grace@acme.test');
    // updatedFrom holds the previous value of exactly the fields that changed, plus updatedAt.
    const updatedFrom = updated?.updatedFrom as Record<string, unknown>;
    assert.deepEqual(Object.keys(updatedFrom).sort(), ['assigneeId', 'stateId', 'updatedAt']);
    assert.equal(updatedFrom.stateId, fake.state.stateByName(issue.teamId, 'Todo')?.id);
    assert.equal(updatedFrom.assigneeId, null);

    const delivery = fake.webhooks.deliveries[1];
    assert.equal(delivery?.headers['user-agent'], 'Linear-Webhook');
    assert.equal(delivery?.headers['linear-event'], 'Issue');
    assert.match(delivery?.headers['linear-delivery'] ?? '', /^[0-9a-f-]{36}$/);
    assert.match(delivery?.headers['linear-signature'] ?? '', /^[0-9a-f]{64}$/);
  });

  it("fills every non-null field of the schema's webhook payload types", async () => {
    const issue = fake.simulate.createIssue({
      teamKey: 'ENG',
      title: 'Typed',
      labelNames: ['Bug'],
      assigneeEmail: 'ada@acme.test',
    });
    fake.simulate.createComment(issue.id, 'A comment');
    await fake.webhooks.settle();
    const [issueEvent, commentEvent] = receiver.verified;
    assert.deepEqual(missingRequiredFields('EntityWebhookPayload', issueEvent ?? {}), []);
    assert.deepEqual(missingRequiredFields('IssueWebhookPayload', issueEvent?.data as Record<string, unknown>), []);
    assert.deepEqual(missingRequiredFields('CommentWebhookPayload', commentEvent?.data as Record<string, unknown>), []);
  });

  it("also sends webhooks for the integration's own API changes, with its user as actor (the echo to suppress)", async () => {
    const client = new LinearClient({ apiKey: fake.apiKey, apiUrl: fake.graphqlUrl });
    const eng = fake.state.teamByKey('ENG');
    const issue = await (await client.createIssue({ teamId: eng?.id ?? '', title: 'Ours' })).issue;
    await client.createComment({ issueId: issue?.id ?? '', body: 'our comment' });
    await fake.webhooks.settle();
    assert.deepEqual(
      receiver.verified.map((p) => `${p.type}:${p.action}:${(p.actor as { email: string }).email}`),
      ['Issue:create:ada@acme.test', 'Comment:create:ada@acme.test'],
    );
  });

  it('can stay quiet about API changes when a test wants only "Linear user" webhooks', async () => {
    const quiet = await createLinearFake({ sendWebhooksForApiChanges: false });
    try {
      quiet.webhooks.register({ url: receiver.url, secret: SECRET });
      const client = new LinearClient({ apiKey: quiet.apiKey, apiUrl: quiet.graphqlUrl });
      const issue = await (await client.createIssue({ teamId: quiet.state.teamByKey('ENG')?.id ?? '', title: 'quiet' }))
        .issue;
      quiet.simulate.updateIssue(issue?.id ?? '', { title: 'renamed in Linear' });
      await quiet.webhooks.settle();
      assert.deepEqual(
        receiver.verified.map((p) => p.action),
        ['update'],
      );
    } finally {
      await quiet.close();
    }
  });

  it('sends only what a webhook subscribed to: resource types and team', async () => {
    const sup = fake.state.teamByKey('SUP');
    const supOnly = await startSdkReceiver();
    try {
      fake.webhooks.register({ url: supOnly.url, secret: SECRET, resourceTypes: ['Comment'], teamId: sup?.id });
      const engIssue = fake.simulate.createIssue({ teamKey: 'ENG', title: 'eng' });
      const supIssue = fake.simulate.createIssue({ teamKey: 'SUP', title: 'sup' });
      fake.simulate.createComment(engIssue.id, 'on eng');
      fake.simulate.createComment(supIssue.id, 'on sup');
      await fake.webhooks.settle();
      assert.deepEqual(
        supOnly.verified.map((p) => (p.data as { body: string }).body),
        ['on sup'],
      );
      assert.equal(receiver.verified.length, 4);
    } finally {
      await supOnly.close();
    }
  });

  it('forges a bad signature, a missing one and a stale timestamp on request: the SDK refuses all three', async () => {
    fake.webhooks.forgeNext({ signature: 'bad' });
    fake.webhooks.forgeNext({ signature: 'missing' });
    fake.webhooks.forgeNext({ timestampAgeMs: 5 * 60_000 });
    const issue = fake.simulate.createIssue({ teamKey: 'ENG', title: 'forged' });
    fake.simulate.updateIssue(issue.id, { title: 'forged 2' });
    fake.simulate.updateIssue(issue.id, { title: 'forged 3' });
    fake.simulate.updateIssue(issue.id, { title: 'genuine' });
    await fake.webhooks.settle();
    assert.deepEqual(
      fake.webhooks.deliveries.map((d) => d.forged ?? 'genuine'),
      ['bad-signature', 'unsigned', 'stale', 'genuine'],
    );
    assert.deepEqual(
      fake.webhooks.deliveries.map((d) => d.status),
      [400, 400, 400, 200],
    );
    assert.deepEqual(
      receiver.verified.map((p) => (p.data as { title: string }).title),
      ['genuine'],
    );
  });

  it('redelivers a delivery byte for byte with the same linear-delivery id (a duplicate)', async () => {
    fake.simulate.createIssue({ teamKey: 'ENG', title: 'twice' });
    await fake.webhooks.settle();
    const [original] = fake.webhooks.deliveries;
    assert.ok(original);
    await fake.webhooks.redeliver(original.deliveryId);
    const [, duplicate] = fake.webhooks.deliveries;
    assert.equal(duplicate?.forged, 'duplicate');
    assert.equal(duplicate?.headers['linear-delivery'], original.headers['linear-delivery']);
    assert.equal(duplicate?.body, original.body);
    assert.equal(receiver.verified.length, 2);
  });

  it('drops a delivery on request: recorded, never sent (a missed webhook for reconciliation to catch)', async () => {
    fake.webhooks.dropNext();
    const issue = fake.simulate.createIssue({ teamKey: 'ENG', title: 'missed' });
    fake.simulate.updateIssue(issue.id, { priority: 2 });
    await fake.webhooks.settle();
    assert.deepEqual(
      fake.webhooks.deliveries.map((d) => Boolean(d.dropped)),
      [true, false],
    );
    assert.deepEqual(
      receiver.verified.map((p) => p.action),
      ['update'],
    );
  });

  it('records a receiver that is down as a delivery error, without failing the change', async () => {
    await receiver.close();
    fake.simulate.createIssue({ teamKey: 'ENG', title: 'nobody listening' });
    await fake.webhooks.settle();
    assert.ok(fake.webhooks.deliveries[0]?.error);
    assert.equal(fake.state.issues.size, 1);
    receiver = await startSdkReceiver();
  });
});
