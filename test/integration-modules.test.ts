// A new integration plugs in through the module list alone: the probes of test/support/probe-integrations.ts are
// named by no shared file, yet the relay hands them ticket events, the API serves their routes, and the generic
// routes manage them with their health.
import assert from 'node:assert/strict';
import { scopeOf } from '../domain/scope.ts';
import { addComment } from '../domain/tickets/comments.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { integrations, loadIntegrationServers } from '../packages/integrations/index.ts';
import { createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase, truncateAll } from './support/database.ts';
import { probeReceived, withProbes } from './support/probe-integrations.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

describe('an integration plugged in through the module list alone', function () {
  this.timeout(60_000);
  let api: TestApi;
  let admin: TestUser;
  let pipeline: TestPipeline;

  before(async () => {
    await truncateAll(); // the relay would otherwise first deliver every earlier test file's events
    api = await startTestApi({ integrations: withProbes });
    pipeline = await startPipeline(uniqueTaskQueue('modules'), {}, {}, {}, withProbes);
    admin = await createTestOrganization({ role: 'admin' });
  });
  after(async () => {
    await pipeline?.stop();
    await api?.close();
  });

  it('hears the ticket events it subscribed to, each once and in order, through the relay', async () => {
    const scope = scopeOf({
      organizationId: admin.organizationId,
      actor: { type: 'user', id: admin.userId },
      userId: admin.userId,
    });
    const { db } = testDatabase();
    const ticket = await createTicket(db, scope, { subject: 'Heard by the probe' });
    await addComment(db, scope, ticket.id, { body: 'first' });
    await addComment(db, scope, ticket.id, { body: 'second' });
    await eventually(async () =>
      assert.deepEqual(
        (probeReceived.get(ticket.id) ?? []).map((e) => e.type),
        ['ticket.created', 'comment.created', 'comment.created'],
      ),
    );
    const ids = probeReceived.get(ticket.id)!.map((e) => e.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
  });

  it('serves its public route without a session and its authenticated route only with one', async () => {
    const ping = await fetch(`${api.baseUrl}/probe/ping`);
    assert.equal(ping.status, 200);
    // The greeting is the probe's own setting, read from the environment with the core's by the composed config.
    assert.deepEqual(await ping.json(), { pong: true, greeting: 'hello' });
    assert.equal((await fetch(`${api.baseUrl}/api/probe/received/x`)).status, 401);
    assert.equal((await admin.fetch('GET', '/api/probe/received/x')).status, 200);
  });

  it('is offered in the catalogue and managed by the generic routes, with its health', async () => {
    const catalogue = await admin.fetch('GET', '/api/integrations/catalogue');
    assert.deepEqual(
      catalogue.body.data.map((e: { type: string }) => e.type),
      [...integrations.map((i) => i.type), 'probe', 'probe-mail'],
    );
    const created = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'probe',
      name: 'Probe',
      config: { defaultChannel: 'general' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.health.status, 'unknown');
    const refused = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'probe',
      name: 'P',
      config: { nope: 1 },
    });
    assert.equal(refused.status, 422);
  });

  it('is refused by an app whose list does not have it', async () => {
    const plain = await startTestApi();
    try {
      const other = await createTestOrganization({ role: 'admin', api: plain });
      const refused = await other.fetch('POST', '/api/integrations', {
        integrationType: 'probe',
        name: 'P',
        config: {},
      });
      assert.equal(refused.status, 422);
      assert.match(JSON.stringify(refused.body), /integrationType/);
    } finally {
      await plain.close();
    }
  });

  it('names, for readiness, exactly the task queues its workers poll (every product module)', async () => {
    for (const { definition, server } of await loadIntegrationServers(integrations)) {
      const specs = server.workers?.({ ...api.deps, temporal: (await testTemporal()).client }) ?? [];
      for (const tickets of ['tickets', 'custom-queue']) {
        assert.deepEqual(
          server.taskQueues?.(tickets) ?? [],
          specs.map((spec) => ({ name: spec.taskQueue(tickets), workflows: spec.workflows })),
          `${definition.type}: /readyz would check other queues than its workers poll`,
        );
      }
    }
  });
});
