import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { integrationConfigs, webhookAttempts, webhookDeliveries, webhookMessages } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { newMessageId } from '../../activities/webhooks/message-id.ts';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import { isValidSecret, maskSecret, secretsInEffect, sign } from '../../common/webhooks/standard-webhooks.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import { writeCounts } from '../../domain/test-fixtures.ts';
import { webhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import {
  type ApiResponse,
  addTestMember,
  createTestOrganization,
  startTestApi,
  type TestApi,
  type TestUser,
} from '../../test/support/api.ts';
import { testDatabase } from '../../test/support/database.ts';
import { testTemporal } from '../../test/support/temporal.ts';
import { webhookDispatcherWorkflowId, webhookEndpointWorkflowId } from '../../workflows/webhook-endpoint-contract.ts';
import { buildOpenApiDocument } from '../openapi/document.ts';

const headerToken = 'Bearer tok_live_5f6c9a0d1e2b3c4d5e6f7a8b';

/** Row counts of everything an endpoint write touches, webhook tables included, to prove a refusal wrote nothing. */
async function webhookWriteCounts() {
  const { pool } = testDatabase();
  const counts: Record<string, number> = await writeCounts();
  for (const table of ['webhook_messages', 'webhook_deliveries', 'webhook_attempts', 'integration_events']) {
    counts[table] = (await pool.query(`select count(*)::int as n from ${table}`)).rows[0].n;
  }
  return counts;
}

/** Fails if a response (body or headers) contains any of these strings. */
function assertAbsent(response: ApiResponse, ...secrets: string[]) {
  const text = JSON.stringify(response.body) + JSON.stringify([...response.headers]);
  for (const secret of secrets) assert.ok(!text.includes(secret), `"${secret}" leaked in ${text}`);
}

const newEndpoint = (overrides: Record<string, unknown> = {}) => ({
  url: 'https://hooks.example.test/switchboard',
  description: 'Ops',
  eventTypes: ['ticket.created', 'comment.created'],
  ...overrides,
});

/** A stored message and a delivery of it to the endpoint, as the delivery engine would leave them. */
async function storeDelivery(
  organizationId: string,
  endpointId: string,
  opts: { status?: 'pending' | 'succeeded' | 'failed'; createdAt?: Date; eventType?: string } = {},
) {
  const { db } = testDatabase();
  const messageId = newMessageId();
  const eventType = opts.eventType ?? 'ticket.created';
  await db.insert(webhookMessages).values({
    id: messageId,
    organizationId,
    eventType,
    ticketId: randomUUID(),
    payload: { type: eventType, timestamp: new Date().toISOString(), data: { n: 1 } },
    createdAt: opts.createdAt,
  });
  const [delivery] = await db
    .insert(webhookDeliveries)
    .values({
      organizationId,
      endpointId,
      messageId,
      status: opts.status ?? 'failed',
      attemptCount: opts.status === 'pending' ? 0 : 1,
      createdAt: opts.createdAt,
    })
    .returning();
  return delivery!;
}

async function storeAttempt(
  organizationId: string,
  delivery: { id: string; endpointId: string },
  attemptNumber: number,
  fields: {
    outcome: string;
    statusCode?: number | null;
    errorClass?: string | null;
    startedAt?: Date;
    createdAt?: Date;
  },
) {
  await testDatabase()
    .db.insert(webhookAttempts)
    .values({
      organizationId,
      deliveryId: delivery.id,
      endpointId: delivery.endpointId,
      attemptNumber,
      startedAt: fields.startedAt ?? new Date(),
      durationMs: 12,
      statusCode: fields.statusCode ?? null,
      responseExcerpt: fields.statusCode ? `status ${fields.statusCode}` : null,
      errorClass: fields.errorClass ?? null,
      outcome: fields.outcome,
      ...(fields.createdAt ? { createdAt: fields.createdAt } : {}),
    });
}

describe('webhooks API', () => {
  let api: TestApi;
  let admin: TestUser;

  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());
  beforeEach(async () => {
    admin = await createTestOrganization({ role: 'admin', api });
  });

  const create = async (overrides: Record<string, unknown> = {}) => {
    const response = await admin.fetch('POST', '/api/webhooks/endpoints', newEndpoint(overrides));
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body as { endpoint: { id: string } & Record<string, unknown>; secret: string };
  };

  describe('endpoints', () => {
    it('keeps internal notes out of an endpoint that asks for it, switchable later', async () => {
      const created = await admin.fetch('POST', '/api/webhooks/endpoints', newEndpoint({ excludeInternalNotes: true }));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.endpoint.excludeInternalNotes, true);
      const id = created.body.endpoint.id;
      assert.equal((await admin.fetch('GET', `/api/webhooks/endpoints/${id}`)).body.excludeInternalNotes, true);
      const updated = await admin.fetch('PATCH', `/api/webhooks/endpoints/${id}`, { excludeInternalNotes: false });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.excludeInternalNotes, false);
      const bad = await admin.fetch('PATCH', `/api/webhooks/endpoints/${id}`, { excludeInternalNotes: 'yes' });
      assert.equal(bad.status, 422);
      assert.match(JSON.stringify(bad.body.error.details), /body\.excludeInternalNotes/);
    });

    it('creates an endpoint with a generated secret shown once, then only its hint', async () => {
      const response = await admin.fetch(
        'POST',
        '/api/webhooks/endpoints',
        newEndpoint({ headers: { Authorization: headerToken } }),
      );
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const { endpoint, secret } = response.body;
      assert.ok(isValidSecret(secret), secret);
      assert.deepEqual(endpoint, {
        id: endpoint.id,
        url: 'https://hooks.example.test/switchboard',
        description: 'Ops',
        eventTypes: ['ticket.created', 'comment.created'],
        enabled: true,
        disabledReason: null,
        rateLimitPerSecond: 50,
        maxConcurrency: 10,
        excludeInternalNotes: false,
        headerNames: ['Authorization'],
        secretHint: maskSecret(secret),
        health: { status: 'unknown', successRate24h: null, lastAttemptAt: null, lastSuccessAt: null, lastError: null },
        createdAt: endpoint.createdAt,
        updatedAt: endpoint.updatedAt,
      });
      assertAbsent(response, headerToken);

      for (const read of [
        await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}`),
        await admin.fetch('GET', '/api/webhooks/endpoints'),
        await admin.fetch('GET', `/api/integrations/${endpoint.id}`),
        await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}/events`),
      ]) {
        assert.equal(read.status, 200);
        assertAbsent(read, secret, secret.slice(6), headerToken);
      }
      const { db } = testDatabase();
      const [row] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, endpoint.id));
      assert.ok(!JSON.stringify(row).includes(secret.slice(6)) && !JSON.stringify(row).includes(headerToken));
      assert.deepEqual(
        await loadIntegrationCredentials(db, api.deps.config.credentialKeys, admin.organizationId, endpoint.id),
        { secret, headers: { Authorization: headerToken } },
      );
    });

    it('lists the organisation’s endpoints oldest first and gets one', async () => {
      const a = await create({ description: 'A' });
      const b = await create({ description: 'B', enabled: false, rateLimitPerSecond: 5, maxConcurrency: 2 });
      const list = await admin.fetch('GET', '/api/webhooks/endpoints');
      assert.deepEqual(
        list.body.data.map((e: { id: string; enabled: boolean }) => [e.id, e.enabled]),
        [
          [a.endpoint.id, true],
          [b.endpoint.id, false],
        ],
      );
      const got = await admin.fetch('GET', `/api/webhooks/endpoints/${b.endpoint.id}`);
      assert.equal(got.body.health.status, 'disabled');
      assert.equal(got.body.rateLimitPerSecond, 5);
      assert.equal(got.body.maxConcurrency, 2);
    });

    it('updates only what is given; headers are replaced as a set and stay secret; the secret is kept', async () => {
      const { endpoint, secret } = await create({ headers: { Authorization: headerToken, 'X-Team': 'ops' } });
      const newToken = 'Bearer tok_live_new_0000000000000000';
      const response = await admin.fetch('PATCH', `/api/webhooks/endpoints/${endpoint.id}`, {
        url: 'https://hooks.example.test/v2',
        eventTypes: ['sla.breached', 'sla.breached'],
        headers: { Authorization: newToken },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.url, 'https://hooks.example.test/v2');
      assert.deepEqual(response.body.eventTypes, ['sla.breached']);
      assert.equal(response.body.description, 'Ops');
      assert.deepEqual(response.body.headerNames, ['Authorization']);
      assertAbsent(response, newToken, headerToken, secret);
      const { db } = testDatabase();
      const keys = api.deps.config.credentialKeys;
      assert.deepEqual(await loadIntegrationCredentials(db, keys, admin.organizationId, endpoint.id), {
        secret,
        headers: { Authorization: newToken },
      });

      const cleared = await admin.fetch('PATCH', `/api/webhooks/endpoints/${endpoint.id}`, { headers: {} });
      assert.deepEqual(cleared.body.headerNames, []);
      assert.deepEqual(await loadIntegrationCredentials(db, keys, admin.organizationId, endpoint.id), { secret });
    });

    it('switches off and on; on clears the reason the system disabled it for; both are endpoint events', async () => {
      const { endpoint } = await create();
      const off = await admin.fetch('PATCH', `/api/webhooks/endpoints/${endpoint.id}`, { enabled: false });
      assert.equal(off.body.enabled, false);
      assert.equal(off.body.health.status, 'disabled');

      // As the delivery engine leaves an endpoint after a 410 Gone.
      await testDatabase()
        .db.update(integrationConfigs)
        .set({ isActive: false, disabledReason: 'the receiver answered 410 Gone' })
        .where(eq(integrationConfigs.id, endpoint.id));
      const on = await admin.fetch('PATCH', `/api/webhooks/endpoints/${endpoint.id}`, { enabled: true });
      assert.equal(on.status, 200);
      assert.equal(on.body.enabled, true);
      assert.equal(on.body.disabledReason, null);
      assert.equal(on.body.health.status, 'unknown');

      const events = await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}/events`);
      assert.deepEqual(
        events.body.data.map((e: { type: string }) => e.type),
        ['endpoint.enabled', 'endpoint.disabled', 'endpoint.created'],
      );
      assert.equal(events.body.data[0].payload.previousDisabledReason, 'the receiver answered 410 Gone');
    });

    it('deletes an endpoint with its deliveries', async () => {
      const { endpoint } = await create();
      const delivery = await storeDelivery(admin.organizationId, endpoint.id);
      assert.equal((await admin.fetch('DELETE', `/api/webhooks/endpoints/${endpoint.id}`)).status, 204);
      assert.equal((await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}`)).status, 404);
      assert.equal((await admin.fetch('GET', `/api/webhooks/deliveries/${delivery.id}`)).status, 404);
    });
  });

  describe('secret rotation', () => {
    it('returns a new secret once and signs with both for the overlap', async () => {
      const { endpoint, secret: oldSecret } = await create();
      const before = Date.now();
      const response = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/rotate-secret`, {});
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const { secret, previousSecretValidUntil } = response.body;
      assert.ok(isValidSecret(secret) && secret !== oldSecret);
      const validUntil = Date.parse(previousSecretValidUntil);
      assert.ok(Math.abs(validUntil - (before + 24 * 3600_000)) < 60_000, previousSecretValidUntil);

      const got = await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}`);
      assert.equal(got.body.secretHint, maskSecret(secret));
      assertAbsent(got, secret.slice(6), oldSecret.slice(6));

      // What the delivery engine reads back signs for receivers holding either secret during the overlap.
      const stored = (await loadIntegrationCredentials(
        testDatabase().db,
        api.deps.config.credentialKeys,
        admin.organizationId,
        endpoint.id,
      )) as { secret: string; previousSecret: string; previousSecretValidUntil: string };
      assert.equal(stored.previousSecret, oldSecret);
      const keys = { current: stored.secret, previous: { secret: stored.previousSecret, validUntil } };
      const body = JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: {} });
      const headers = sign({ msgId: 'msg_1', timestamp: new Date(), body, secrets: secretsInEffect(keys, Date.now()) });
      for (const s of [secret, oldSecret]) assert.doesNotThrow(() => new Webhook(s).verify(body, headers));
      assert.deepEqual(secretsInEffect(keys, validUntil + 1), [secret]);

      const events = await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}/events`);
      assert.equal(events.body.data[0].type, 'secret.rotated');
    });

    it('with overlapHours 0 drops the old secret at once; refuses an overlap over a week', async () => {
      const { endpoint } = await create();
      const response = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/rotate-secret`, {
        overlapHours: 0,
      });
      assert.equal(response.body.previousSecretValidUntil, null);
      const stored = await loadIntegrationCredentials(
        testDatabase().db,
        api.deps.config.credentialKeys,
        admin.organizationId,
        endpoint.id,
      );
      assert.deepEqual(stored, { secret: response.body.secret });
      const tooLong = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/rotate-secret`, {
        overlapHours: 169,
      });
      assert.equal(tooLong.status, 422);
      assert.equal(tooLong.body.error.details[0].path, 'body.overlapHours');
    });
  });

  describe('refusing bad input', () => {
    it('names the field and writes nothing', async () => {
      await create();
      const before = await webhookWriteCounts();
      const cases: Array<[Record<string, unknown>, string, RegExp?]> = [
        [newEndpoint({ url: 'not a url' }), 'body.url', /not a valid absolute URL/],
        [newEndpoint({ url: 'ftp://hooks.example.test/' }), 'body.url', /scheme ftp/],
        [newEndpoint({ url: 'https://user:pw@hooks.example.test/' }), 'body.url', /credentials/],
        [newEndpoint({ url: 'https://10.0.0.5/hook' }), 'body.url', /private network/],
        [newEndpoint({ url: 'https://169.254.169.254/latest/meta-data' }), 'body.url', /link-local/],
        [newEndpoint({ url: 'https://[::ffff:192.168.1.1]/' }), 'body.url', /IPv4-mapped/],
        [newEndpoint({ url: 'https://[fd00::1]/' }), 'body.url', /unique local/],
        [newEndpoint({ eventTypes: ['ticket.deleted'] }), 'body.eventTypes.0'],
        [newEndpoint({ eventTypes: ['webhook.test'] }), 'body.eventTypes.0'],
        [newEndpoint({ eventTypes: [] }), 'body.eventTypes'],
        [newEndpoint({ headers: { 'Webhook-Signature': 'v1,forged' } }), 'body.headers.Webhook-Signature', /reserved/],
        [newEndpoint({ headers: { Host: 'evil.test' } }), 'body.headers.Host'],
        [newEndpoint({ headers: { 'X-Ok': 'a\r\nX-Injected: 1' } }), 'body.headers.X-Ok', /forbidden character/],
        [newEndpoint({ headers: { 'X-Team': 'a', 'x-team': 'b' } }), 'body.headers.x-team', /twice/],
        [newEndpoint({ headers: { 'bad name': 'x' } }), 'body.headers.bad name'],
        [newEndpoint({ rateLimitPerSecond: 0 }), 'body.rateLimitPerSecond'],
        [newEndpoint({ rateLimitPerSecond: 10_001 }), 'body.rateLimitPerSecond'],
        [newEndpoint({ maxConcurrency: 101 }), 'body.maxConcurrency'],
        [newEndpoint({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }), 'body.secret', /unknown field/],
      ];
      for (const [body, field, message] of cases) {
        const response = await admin.fetch('POST', '/api/webhooks/endpoints', body);
        assert.equal(response.status, 422, `${JSON.stringify(body)} → ${JSON.stringify(response.body)}`);
        const detail = response.body.error.details.find((d: { path: string }) => d.path === field);
        assert.ok(detail, `${field} not named in ${JSON.stringify(response.body.error)}`);
        if (message) assert.match(detail.message, message);
      }
      assert.deepEqual(await webhookWriteCounts(), before);
    });

    it('checks a changed URL or header the same way, changing nothing', async () => {
      const { endpoint } = await create();
      const before = await webhookWriteCounts();
      for (const [body, field] of [
        [{ url: 'https://127.0.0.1.nip.io.invalid:99999/' }, 'body.url'],
        [{ url: 'https://[::1]:8443/' }, undefined],
        [{ headers: { 'Content-Length': '1' } }, 'body.headers.Content-Length'],
        [{ eventTypes: ['nope'] }, 'body.eventTypes.0'],
        [{ enabled: 'yes' }, 'body.enabled'],
      ] as const) {
        const response = await admin.fetch('PATCH', `/api/webhooks/endpoints/${endpoint.id}`, body);
        if (field === undefined) {
          // ::1 is on the test deployment's allow-list, so it is accepted; put the URL back.
          assert.equal(response.status, 200, JSON.stringify(response.body));
          await admin.fetch('PATCH', `/api/webhooks/endpoints/${endpoint.id}`, { url: newEndpoint().url });
          continue;
        }
        assert.equal(response.status, 422, `${JSON.stringify(body)} → ${JSON.stringify(response.body)}`);
        assert.ok(
          response.body.error.details.some((d: { path: string }) => d.path === field),
          field,
        );
      }
      const after = await webhookWriteCounts();
      // The allow-listed change and its revert wrote two audit rows; nothing else changed.
      assert.deepEqual({ ...after, audit_log: before.audit_log }, before);
      const got = await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}`);
      assert.equal(got.body.url, newEndpoint().url);
      assert.deepEqual(got.body.headerNames, []);
    });

    it('refuses plain http unless the deployment allows it', async () => {
      const strict = await startTestApi({
        config: (config) => webhookSettings.with(config, { allowHttp: false, allowCidrs: [] }),
      });
      try {
        const strictAdmin = await createTestOrganization({ api: strict });
        const before = await webhookWriteCounts();
        const refused = await strictAdmin.fetch(
          'POST',
          '/api/webhooks/endpoints',
          newEndpoint({ url: 'http://hooks.example.test/' }),
        );
        assert.equal(refused.status, 422);
        assert.deepEqual(refused.body.error.details, [
          { path: 'body.url', message: 'https is required (plain http is not allowed here)' },
        ]);
        const loopback = await strictAdmin.fetch(
          'POST',
          '/api/webhooks/endpoints',
          newEndpoint({ url: 'https://127.0.0.1/' }),
        );
        assert.equal(loopback.status, 422);
        assert.match(loopback.body.error.details[0].message, /loopback/);
        const generic = await strictAdmin.fetch('POST', '/api/integrations', {
          integrationType: 'webhook',
          name: 'w',
          config: { url: 'http://hooks.example.test/', eventTypes: ['ticket.created'] },
        });
        assert.equal(generic.status, 422);
        assert.deepEqual(generic.body.error.details, [
          { path: 'body.config.url', message: 'https is required (plain http is not allowed here)' },
        ]);
        assert.deepEqual(await webhookWriteCounts(), before);
      } finally {
        await strict.close();
      }
      // The test deployment allows http and loopback (its receivers run there), through either API, and says so.
      await create({ url: 'http://127.0.0.1:9/hook' });
      const generic = await admin.fetch('POST', '/api/integrations', {
        integrationType: 'webhook',
        name: 'w',
        config: { url: 'http://127.0.0.1:9/generic', eventTypes: ['ticket.created'] },
      });
      assert.equal(generic.status, 201, JSON.stringify(generic.body));
      const ftp = await admin.fetch(
        'POST',
        '/api/webhooks/endpoints',
        newEndpoint({ url: 'ftp://hooks.example.test/' }),
      );
      assert.equal(ftp.status, 422);
      assert.deepEqual(ftp.body.error.details, [
        { path: 'body.url', message: 'scheme ftp is not allowed; use https or http' },
      ]);
    });

    it('answers 404 for an endpoint or delivery id that does not exist, and for another integration type', async () => {
      // An integration of another type, as any module would store it.
      const [other] = await testDatabase()
        .db.insert(integrationConfigs)
        .values({ organizationId: admin.organizationId, integrationType: 'probe', name: 's', config: {} })
        .returning({ id: integrationConfigs.id });
      for (const id of [randomUUID(), other!.id]) {
        assert.equal((await admin.fetch('GET', `/api/webhooks/endpoints/${id}`)).status, 404);
        assert.equal((await admin.fetch('POST', `/api/webhooks/endpoints/${id}/rotate-secret`, {})).status, 404);
        assert.equal((await admin.fetch('DELETE', `/api/webhooks/endpoints/${id}`)).status, 404);
      }
      assert.equal((await admin.fetch('GET', `/api/integrations/${other!.id}`)).status, 200);
      assert.equal((await admin.fetch('GET', '/api/webhooks/endpoints/not-a-uuid')).status, 422);
    });
  });

  describe('deliveries', () => {
    it('sends a test event to this endpoint only, as a pending webhook.test delivery', async () => {
      const { endpoint } = await create({ eventTypes: ['sla.breached'] });
      const other = await create();
      const response = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/test`);
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.match(response.body.messageId, /^msg_[0-9A-Z]{26}$/);

      const detail = await admin.fetch('GET', `/api/webhooks/deliveries/${response.body.deliveryId}`);
      assert.equal(detail.status, 200);
      assert.equal(detail.body.status, 'pending');
      assert.equal(detail.body.eventType, 'webhook.test');
      assert.equal(detail.body.messageId, response.body.messageId);
      assert.equal(detail.body.ticketId, null);
      assert.ok(detail.body.nextAttemptAt);
      assert.deepEqual(detail.body.attempts, []);
      assert.deepEqual(Object.keys(detail.body.payload).sort(), ['data', 'timestamp', 'type']);
      assert.equal(detail.body.payload.type, 'webhook.test');
      assert.equal(detail.body.payload.data.endpointId, endpoint.id);

      const others = await admin.fetch('GET', `/api/webhooks/endpoints/${other.endpoint.id}/deliveries`);
      assert.deepEqual(others.body.data, []);
    });

    it('refuses a test event or resend to a disabled endpoint (409), queueing nothing', async () => {
      const { endpoint } = await create({ enabled: false });
      const delivery = await storeDelivery(admin.organizationId, endpoint.id);
      const before = await webhookWriteCounts();
      for (const [path, body] of [
        [`/api/webhooks/endpoints/${endpoint.id}/test`, undefined],
        [`/api/webhooks/deliveries/${delivery.id}/resend`, undefined],
        [`/api/webhooks/endpoints/${endpoint.id}/resend-failed`, { since: '2020-01-01T00:00:00Z' }],
      ] as const) {
        const response = await admin.fetch('POST', path, body);
        assert.equal(response.status, 409, path);
        assert.match(response.body.error.message, /disabled; enable it first/);
      }
      assert.deepEqual(await webhookWriteCounts(), before);
    });

    it('lists deliveries newest first, a page at a time, filtered by status', async () => {
      const { endpoint } = await create();
      const base = Date.now() - 60_000;
      const stored = [];
      for (let i = 0; i < 5; i++)
        stored.push(
          await storeDelivery(admin.organizationId, endpoint.id, {
            status: i % 2 === 0 ? 'failed' : 'succeeded',
            createdAt: new Date(base + i * 1000),
          }),
        );
      const newestFirst = stored.map((d) => d.id).reverse();
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const page = await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}/deliveries${query}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok(page.body.data.length <= 2);
        seen.push(...page.body.data.map((d: { id: string }) => d.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, newestFirst);

      const failed = await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}/deliveries?status=failed`);
      assert.deepEqual(
        failed.body.data.map((d: { id: string }) => d.id),
        [stored[4]!.id, stored[2]!.id, stored[0]!.id],
      );
      assert.equal(failed.body.data[0].eventType, 'ticket.created');

      const badCursor = await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}/deliveries?cursor=nope`);
      assert.equal(badCursor.status, 400);
      assert.equal(badCursor.body.error.details[0].path, 'query.cursor');
      const badStatus = await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}/deliveries?status=lost`);
      assert.equal(badStatus.status, 422);
      assert.equal(badStatus.body.error.details[0].path, 'query.status');
    });

    it('shows a delivery’s attempts in order and derives the endpoint’s health from them', async () => {
      const { endpoint } = await create();
      const { db } = testDatabase();
      const delivery = await storeDelivery(admin.organizationId, endpoint.id, { status: 'succeeded' });
      const old = await storeDelivery(admin.organizationId, endpoint.id, { status: 'failed' });
      const hourAgo = new Date(Date.now() - 3600_000);
      await storeAttempt(admin.organizationId, old, 1, {
        outcome: 'succeeded',
        statusCode: 200,
        startedAt: new Date(Date.now() - 48 * 3600_000),
      });
      // Stored as they are opened, one claim after another: the health's latest attempt is the last claim's.
      await storeAttempt(admin.organizationId, delivery, 1, {
        outcome: 'retry',
        errorClass: 'timeout',
        startedAt: hourAgo,
      });
      const succeededAt = new Date();
      await storeAttempt(admin.organizationId, delivery, 2, {
        outcome: 'succeeded',
        statusCode: 204,
        startedAt: succeededAt,
      });
      // What the delivery activity records on the endpoint after each batch.
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, { ok: true, at: succeededAt });

      const detail = await admin.fetch('GET', `/api/webhooks/deliveries/${delivery.id}`);
      assert.deepEqual(
        detail.body.attempts.map((a: { attemptNumber: number; outcome: string; statusCode: number | null }) => [
          a.attemptNumber,
          a.outcome,
          a.statusCode,
        ]),
        [
          [1, 'retry', null],
          [2, 'succeeded', 204],
        ],
      );
      assert.equal(detail.body.attempts[0].errorClass, 'timeout');

      let health = (await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}`)).body.health;
      assert.deepEqual(health, {
        status: 'healthy',
        successRate24h: 0.5, // the 48-hour-old success is outside the window
        lastAttemptAt: succeededAt.toISOString(),
        lastSuccessAt: succeededAt.toISOString(),
        lastError: null,
      });

      const failedAt = new Date(Date.now() + 1000);
      await storeAttempt(admin.organizationId, old, 2, { outcome: 'failed', statusCode: 500, startedAt: failedAt });
      health = (await admin.fetch('GET', '/api/webhooks/endpoints')).body.data[0].health;
      assert.equal(health.status, 'failing');
      assert.equal(health.lastError, 'HTTP 500', 'described from the attempt until the activity records its wording');
      assert.ok(Math.abs(health.successRate24h - 1 / 3) < 1e-9);
      assert.equal(health.lastAttemptAt, failedAt.toISOString());
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, {
        ok: false,
        error: 'HTTP 500 (server error)',
        at: failedAt,
      });
      health = (await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}`)).body.health;
      assert.equal(health.lastError, 'HTTP 500 (server error)');
      assert.equal(health.lastSuccessAt, succeededAt.toISOString());
    });

    it('finds the health’s attempts by when they were opened and judges them by when they were sent', async () => {
      const { endpoint } = await create();
      const delivery = await storeDelivery(admin.organizationId, endpoint.id, { status: 'succeeded' });
      const now = Date.now();
      const at = (msAgo: number) => new Date(now - msAgo);
      const day = 24 * 3600_000;
      // Opened (claimed) five minutes before the day began, sent within it: counted.
      await storeAttempt(admin.organizationId, delivery, 1, {
        outcome: 'succeeded',
        statusCode: 200,
        createdAt: at(day + 5 * 60_000),
        startedAt: at(day - 60_000),
      });
      // Sent before the day began: not counted, whether opened long before it or just before.
      await storeAttempt(admin.organizationId, delivery, 2, {
        outcome: 'failed',
        statusCode: 500,
        createdAt: at(day + 20 * 60_000),
        startedAt: at(day + 15 * 60_000),
      });
      await storeAttempt(admin.organizationId, delivery, 3, {
        outcome: 'failed',
        statusCode: 500,
        createdAt: at(day + 3 * 60_000),
        startedAt: at(day + 2 * 60_000),
      });
      // An earlier claim's attempt, sent after the later claim's (another lane's window): not the latest, as health
      // takes the claim made last.
      await storeAttempt(admin.organizationId, delivery, 6, {
        outcome: 'failed',
        statusCode: 500,
        createdAt: at(3 * 60_000),
        startedAt: at(10_000),
      });
      // One claim's two attempts, opened together: the one sent last is the latest, whichever was stored last.
      const claimedAt = at(60_000);
      await storeAttempt(admin.organizationId, delivery, 5, {
        outcome: 'succeeded',
        statusCode: 200,
        createdAt: claimedAt,
        startedAt: at(40_000),
      });
      await storeAttempt(admin.organizationId, delivery, 4, {
        outcome: 'failed',
        statusCode: 500,
        createdAt: claimedAt,
        startedAt: at(50_000),
      });
      const { health } = (await admin.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}`)).body;
      assert.equal(health.status, 'healthy');
      assert.equal(health.lastAttemptAt, at(40_000).toISOString());
      assert.ok(Math.abs(health.successRate24h - 2 / 4) < 1e-9, `success rate ${health.successRate24h}`);
    });

    it('resends one delivery, whatever its status, keeping its message id', async () => {
      const { endpoint } = await create();
      const delivery = await storeDelivery(admin.organizationId, endpoint.id, { status: 'succeeded' });
      const response = await admin.fetch('POST', `/api/webhooks/deliveries/${delivery.id}/resend`);
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.equal(response.body.status, 'pending');
      assert.equal(response.body.messageId, delivery.messageId);
      assert.equal(response.body.attemptCount, 1, 'earlier attempts stay counted');
      assert.ok(Date.parse(response.body.nextAttemptAt) <= Date.now() + 1000);
    });

    it('never resends an event that was refused at the source for its size (its body was not kept)', async () => {
      const { endpoint } = await create();
      // As the enqueue activity leaves an event over the payload limit.
      const refused = await storeDelivery(admin.organizationId, endpoint.id, { status: 'failed' });
      await storeAttempt(admin.organizationId, refused, 0, { outcome: 'failed', errorClass: 'payload_too_large' });
      const before = await webhookWriteCounts();
      const one = await admin.fetch('POST', `/api/webhooks/deliveries/${refused.id}/resend`);
      assert.equal(one.status, 409);
      assert.match(one.body.error.message, /payload limit/);
      const all = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/resend-failed`, {
        since: '2020-01-01T00:00:00Z',
      });
      assert.deepEqual(all.body, { count: 0 });
      assert.deepEqual(await webhookWriteCounts(), before);
    });

    it('resends every failed delivery created since a time, and only those', async () => {
      const { endpoint } = await create();
      const other = await create();
      const since = new Date(Date.now() - 10 * 60_000);
      const oldFailed = await storeDelivery(admin.organizationId, endpoint.id, {
        status: 'failed',
        createdAt: new Date(since.getTime() - 1000),
      });
      const recentFailed = await storeDelivery(admin.organizationId, endpoint.id, { status: 'failed' });
      const recentOk = await storeDelivery(admin.organizationId, endpoint.id, { status: 'succeeded' });
      const otherFailed = await storeDelivery(admin.organizationId, other.endpoint.id, { status: 'failed' });

      const response = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/resend-failed`, {
        since: since.toISOString(),
      });
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.deepEqual(response.body, { count: 1 });
      const statuses = Object.fromEntries(
        (await testDatabase().db.select().from(webhookDeliveries)).map((d) => [d.id, d.status]),
      );
      assert.equal(statuses[recentFailed.id], 'pending');
      assert.equal(statuses[oldFailed.id], 'failed');
      assert.equal(statuses[recentOk.id], 'succeeded');
      assert.equal(statuses[otherFailed.id], 'failed');

      const before = await webhookWriteCounts();
      for (const since of ['yesterday', '2026-13-01T00:00:00Z', 12]) {
        const bad = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/resend-failed`, { since });
        assert.equal(bad.status, 422, String(since));
        assert.equal(bad.body.error.details[0].path, 'body.since');
      }
      const missing = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/resend-failed`, {});
      assert.equal(missing.status, 422);
      assert.deepEqual(await webhookWriteCounts(), before);
    });
  });

  describe('who may do what', () => {
    it('lets viewers and agents read, and only admins write (403, writing nothing)', async () => {
      const { endpoint } = await create();
      const delivery = await storeDelivery(admin.organizationId, endpoint.id);
      const writes = [
        ['POST', '/api/webhooks/endpoints', newEndpoint()],
        ['PATCH', `/api/webhooks/endpoints/${endpoint.id}`, { description: 'mine' }],
        ['DELETE', `/api/webhooks/endpoints/${endpoint.id}`, undefined],
        ['POST', `/api/webhooks/endpoints/${endpoint.id}/rotate-secret`, {}],
        ['POST', `/api/webhooks/endpoints/${endpoint.id}/test`, undefined],
        ['POST', `/api/webhooks/endpoints/${endpoint.id}/resend-failed`, { since: '2020-01-01T00:00:00Z' }],
        ['POST', `/api/webhooks/deliveries/${delivery.id}/resend`, undefined],
      ] as const;
      const reads = [
        '/api/webhooks/event-types',
        '/api/webhooks/endpoints',
        `/api/webhooks/endpoints/${endpoint.id}`,
        `/api/webhooks/endpoints/${endpoint.id}/deliveries`,
        `/api/webhooks/endpoints/${endpoint.id}/events`,
        `/api/webhooks/deliveries/${delivery.id}`,
      ];
      const before = await webhookWriteCounts();
      for (const role of ['viewer', 'agent'] as const) {
        const member = await addTestMember(admin.organizationId, { role, api });
        for (const path of reads) assert.equal((await member.fetch('GET', path)).status, 200, `${role} GET ${path}`);
        for (const [method, path, body] of writes) {
          const response = await member.fetch(method, path, body);
          assert.equal(response.status, 403, `${role} ${method} ${path}`);
        }
      }
      assert.deepEqual(await webhookWriteCounts(), before);
      const unauthenticated = await admin.fetch('GET', '/api/webhooks/endpoints', undefined, { as: 'none' });
      assert.equal(unauthenticated.status, 401);
    });

    it('shows viewers and agents a masked URL (scheme and host) everywhere; admins see it in full', async () => {
      const token = 'T0KEN-in-the-path-7f3a';
      const url = `https://hooks.example.test:8443/services/${token}?key=${token}`;
      const { endpoint } = await create({ url, description: '' });
      await admin.fetch('PATCH', `/api/webhooks/endpoints/${endpoint.id}`, { url: `${url}&v=2` });
      const masked = 'https://hooks.example.test:8443/***?***';
      const reads = (user: TestUser) =>
        Promise.all([
          user.fetch('GET', '/api/webhooks/endpoints'),
          user.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}`),
          user.fetch('GET', '/api/integrations'),
          user.fetch('GET', `/api/integrations/${endpoint.id}`),
          user.fetch('GET', `/api/webhooks/endpoints/${endpoint.id}/events`),
        ]);
      for (const role of ['viewer', 'agent'] as const) {
        const member = await addTestMember(admin.organizationId, { role, api });
        const [list, one, integrations, integration, events] = await reads(member);
        for (const response of [list, one, integrations, integration, events]) {
          assert.equal(response.status, 200);
          assertAbsent(response, token);
        }
        assert.equal(list.body.data[0].url, masked);
        assert.equal(one.body.url, masked);
        assert.equal(integration.body.config.url, masked);
        assert.equal(integration.body.name, masked, 'the display name falls back to the masked URL');
        assert.equal(events.body.data.at(-1).payload.url, masked);
      }
      const [list, one, , integration] = await reads(admin);
      assert.equal(list.body.data[0].url, `${url}&v=2`);
      assert.equal(one.body.url, `${url}&v=2`);
      assert.equal(integration.body.config.url, `${url}&v=2`);
      // What is stored for every member to read later (the audit log, endpoint events) never held the token.
      const { pool } = testDatabase();
      const stored = await pool.query(
        `select metadata::text as t from audit_log where organization_id = $1
         union all select payload::text from integration_events where organization_id = $1
         union all select name from integration_configs where organization_id = $1`,
        [admin.organizationId],
      );
      assert.ok(stored.rows.length >= 4);
      for (const row of stored.rows) assert.ok(!row.t.includes(token), `stored in clear: ${row.t}`);
    });

    it("answers 404 for another organisation's endpoint or delivery, on every route, writing nothing", async () => {
      const { endpoint } = await create();
      const delivery = await storeDelivery(admin.organizationId, endpoint.id);
      const stranger = await createTestOrganization({ role: 'admin', api });
      const before = await webhookWriteCounts();
      for (const [method, path, body] of [
        ['GET', `/api/webhooks/endpoints/${endpoint.id}`, undefined],
        ['PATCH', `/api/webhooks/endpoints/${endpoint.id}`, { description: 'mine' }],
        ['DELETE', `/api/webhooks/endpoints/${endpoint.id}`, undefined],
        ['POST', `/api/webhooks/endpoints/${endpoint.id}/rotate-secret`, {}],
        ['POST', `/api/webhooks/endpoints/${endpoint.id}/test`, undefined],
        ['GET', `/api/webhooks/endpoints/${endpoint.id}/deliveries`, undefined],
        ['POST', `/api/webhooks/endpoints/${endpoint.id}/resend-failed`, { since: '2020-01-01T00:00:00Z' }],
        ['GET', `/api/webhooks/endpoints/${endpoint.id}/events`, undefined],
        ['GET', `/api/webhooks/deliveries/${delivery.id}`, undefined],
        ['POST', `/api/webhooks/deliveries/${delivery.id}/resend`, undefined],
      ] as const) {
        const response = await stranger.fetch(method, path, body);
        assert.equal(response.status, 404, `${method} ${path}`);
        assertAbsent(response, 'hooks.example.test');
      }
      assert.deepEqual((await stranger.fetch('GET', '/api/webhooks/endpoints')).body.data, []);
      assert.deepEqual(await webhookWriteCounts(), before);
    });
  });

  describe('waking the delivery workflow', () => {
    it('announces the endpoint to the webhook dispatcher (starting it if need be) after a test event and a resend, and starts no endpoint workflow', async function () {
      this.timeout(120_000);
      const temporal = await testTemporal();
      const withTemporal = await startTestApi({ temporal: temporal.client });
      try {
        const owner = await createTestOrganization({ api: withTemporal });
        const created = await owner.fetch('POST', '/api/webhooks/endpoints', newEndpoint());
        const endpointId = created.body.endpoint.id;
        const dispatcher = temporal.client.workflow.getHandle(webhookDispatcherWorkflowId('webhooks'));
        const signalsSoFar = async () => {
          try {
            return ((await dispatcher.fetchHistory()).events ?? []).filter(
              (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'dispatch',
            ).length;
          } catch {
            return 0; // not started yet
          }
        };
        const before = await signalsSoFar();
        assert.equal((await owner.fetch('POST', `/api/webhooks/endpoints/${endpointId}/test`)).status, 202);
        const started = await dispatcher.describe();
        assert.equal(started.status.name, 'RUNNING');
        assert.equal(started.taskQueue, 'webhooks');

        const delivery = await storeDelivery(owner.organizationId, endpointId, { status: 'failed' });
        assert.equal((await owner.fetch('POST', `/api/webhooks/deliveries/${delivery.id}/resend`)).status, 202);
        assert.equal((await signalsSoFar()) - before, 2, 'one announcement per queued delivery');
        await assert.rejects(
          temporal.client.workflow.getHandle(webhookEndpointWorkflowId(endpointId)).describe(),
          /not found/i,
          'the endpoint’s own workflow only ever holds a retry timer',
        );
        await dispatcher.terminate('test over');
      } finally {
        await withTemporal.close();
      }
    });

    it('without Temporal, still queues the delivery: it waits for the endpoint’s next announcement', async () => {
      const { endpoint } = await create();
      const response = await admin.fetch('POST', `/api/webhooks/endpoints/${endpoint.id}/test`);
      assert.equal(response.status, 202);
      const [delivery] = await testDatabase()
        .db.select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.id, response.body.deliveryId));
      assert.equal(delivery!.status, 'pending');
    });
  });

  describe('the generic integrations API', () => {
    it('creates a webhook through the same path: a generated secret, the URL policy, no credentials accepted', async () => {
      const response = await admin.fetch('POST', '/api/integrations', {
        integrationType: 'webhook',
        name: 'Ops webhook',
        config: { url: 'https://hooks.example.test/generic', eventTypes: ['ticket.created'] },
      });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.name, 'Ops webhook');
      const credentials = (await loadIntegrationCredentials(
        testDatabase().db,
        api.deps.config.credentialKeys,
        admin.organizationId,
        response.body.id,
      )) as { secret: string };
      assert.ok(isValidSecret(credentials.secret));
      assert.equal(response.body.credentialsHint, maskSecret(credentials.secret));
      const endpoint = await admin.fetch('GET', `/api/webhooks/endpoints/${response.body.id}`);
      assert.equal(endpoint.body.description, 'Ops webhook');
      assert.equal(endpoint.body.rateLimitPerSecond, 50);

      const before = await webhookWriteCounts();
      for (const [body, field] of [
        [
          {
            integrationType: 'webhook',
            name: 'w',
            config: { url: 'https://hooks.example.test/', eventTypes: ['ticket.created'] },
            credentials: { signingSecret: 'whsec_mine' },
          },
          'body.credentials',
        ],
        [
          {
            integrationType: 'webhook',
            name: 'w',
            config: { url: 'https://192.168.1.1/', eventTypes: ['ticket.created'] },
          },
          'body.config.url',
        ],
      ] as const) {
        const refused = await admin.fetch('POST', '/api/integrations', body);
        assert.equal(refused.status, 422, JSON.stringify(refused.body));
        assert.equal(refused.body.error.details[0].path, field);
      }
      assert.deepEqual(await webhookWriteCounts(), before);
    });
  });

  describe('the event catalogue', () => {
    it('lists every subscribable type and webhook.test with the JSON Schema of its data', async () => {
      const response = await admin.fetch('GET', '/api/webhooks/event-types');
      assert.equal(response.status, 200);
      const types = response.body.data.map((t: { type: string }) => t.type);
      assert.deepEqual(types, [
        'ticket.created',
        'ticket.updated',
        'ticket.status_changed',
        'ticket.assigned',
        'comment.created',
        'sla.warning',
        'sla.breached',
        'attachment.uploaded',
        'attachment.available',
        'attachment.blocked',
        'attachment.failed',
        'attachment.deleted',
        'webhook.test',
      ]);
      const created = response.body.data[0];
      assert.ok(created.description.length > 10);
      assert.equal(created.schema.type, 'object');
      assert.deepEqual(created.schema.required, ['ticket']);
      assert.ok(created.schema.properties.ticket.properties.status.enum.includes('solved'));
    });

    it('is in the OpenAPI document: a component and a webhooks entry per type, with the signing headers', () => {
      const document = buildOpenApiDocument() as unknown as {
        components: { schemas: Record<string, { properties: Record<string, unknown> }> };
        webhooks: Record<string, { post: { description: string; parameters: Array<{ name: string }> } }>;
      };
      const envelope = document.components.schemas['WebhookEvent_ticket.status_changed'];
      assert.deepEqual(Object.keys(envelope!.properties), ['type', 'timestamp', 'data']);
      assert.ok(document.components.schemas['WebhookEvent_webhook.test']);
      const hook = document.webhooks['comment.created']!.post;
      assert.match(hook.description, /webhook-signature/);
      assert.match(hook.description, /256 KB/);
      assert.deepEqual(
        hook.parameters.map((p) => p.name),
        ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
      );
    });
  });
});
