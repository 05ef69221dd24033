// The integration health monitor (issue 13) against the real API, database, clamd and MinIO: what each integration
// reports and from which signal, how it fails and recovers, the numbers (error rate, backlog), the route's scoping,
// and the Prometheus output.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  externalSyncRecords,
  integrationConfigs,
  slackPausedThreads,
  slackWorkspaces,
  ticketAttachments,
  webhookDeliveries,
  webhookMessages,
} from '@switchboard/database';
import { sql } from 'drizzle-orm';
import { markLinkFailed, noteLinkRateLimit } from '../../activities/linear/link-status.ts';
import { sampleIntegrationHealth } from '../../domain/integrations/health/sample.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import { markWorkspaceConnected, markWorkspaceDisconnected } from '../../domain/slack/installations.ts';
import { forgetHealthProbes } from '../../packages/integrations/files/health.ts';
import { fileSettings } from '../../packages/integrations/files/settings.ts';
import { integrations, loadIntegrationServers } from '../../packages/integrations/index.ts';
import { apiFetch, createTestOrganization, startTestApi, type TestApi, type TestUser } from '../../test/support/api.ts';
import { testDatabase } from '../../test/support/database.ts';
import { ensureFileServices } from '../../test/support/file-services.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field
type Item = any;

describe('integration health', () => {
  const { db } = testDatabase();
  let api: TestApi;
  let deadScanner: TestApi;
  let admin: TestUser;

  before(async function () {
    // The first run on a machine installs and starts clamd and MinIO (scripts/file-services.sh): minutes.
    this.timeout(20 * 60_000);
    const services = await ensureFileServices();
    api = await startTestApi({
      config: (c) => fileSettings.with(c, { clamd: { ...services.clamd, timeoutMs: 2000 } }),
    });
    // The same deployment with its scanner gone: a port nothing listens on.
    deadScanner = await startTestApi({
      config: (c) => fileSettings.with(c, { clamd: { host: '127.0.0.1', port: 9, timeoutMs: 500 } }),
    });
  });
  after(async () => {
    await deadScanner?.close();
    await api?.close();
  });
  beforeEach(async () => {
    forgetHealthProbes();
    admin = await createTestOrganization({ role: 'admin', api });
  });

  const health = async (as: TestUser = admin, on: TestApi = api): Promise<Item[]> => {
    // The cookie works on either app: they share the database the sessions live in.
    const response = await apiFetch(on, 'GET', '/api/integrations/health', undefined, { cookie: as.cookie });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.data;
  };
  const itemOf = async (key: string, as?: TestUser, on?: TestApi) => {
    const item = (await health(as, on)).find((i) => i.key === key);
    assert.ok(item, `no item ${key}`);
    return item;
  };

  async function integration(integrationType: string, name: string, config: Record<string, unknown> = {}) {
    const [row] = await db
      .insert(integrationConfigs)
      .values({ organizationId: admin.organizationId, integrationType, name, config })
      .returning();
    assert.ok(row);
    return row;
  }

  async function ticket(user: TestUser = admin): Promise<string> {
    const created = await user.fetch('POST', '/api/tickets', { subject: 'Printer on fire', description: 'help' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id;
  }

  describe('GET /api/integrations/health', () => {
    it('is not taken for an integration id, and refuses the unauthenticated', async () => {
      const anonymous = await apiFetch(api, 'GET', '/api/integrations/health');
      assert.equal(anonymous.status, 401);
      const response = await admin.fetch('GET', '/api/integrations/health');
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.ok(Array.isArray(response.body.data));
      assert.ok(response.body.sampledAt);
      // The generic route still answers for ids.
      assert.equal((await admin.fetch('GET', `/api/integrations/${randomUUID()}`)).status, 404);
    });

    it("shows every member their organisation's integrations and deployment parts, never another's", async () => {
      const mine = await integration('webhook', 'Mine');
      const viewer = await createTestOrganization({ role: 'viewer', api });
      const theirs = await db
        .insert(integrationConfigs)
        .values({ organizationId: viewer.organizationId, integrationType: 'webhook', name: 'Theirs' })
        .returning();
      const items = await health();
      assert.deepEqual(
        items.map((i) => i.key),
        [mine.id, 'storage:default', 'scanner'],
      );
      const viewerItems = await health(viewer);
      assert.deepEqual(
        viewerItems.map((i) => i.key),
        [theirs[0]?.id, 'storage:default', 'scanner'],
      );
      const webhook = items[0];
      assert.equal(webhook.status, 'unknown');
      assert.match(
        webhook.workflowsUrl,
        /\/namespaces\/default\/workflows\?query=IntegrationType%3D%22webhook%22%20AND%20OrganizationId%3D%22/,
      );
      assert.ok(webhook.workflowsUrl.includes(encodeURIComponent(admin.organizationId)));
      assert.equal(webhook.history.length, 24);
    });
  });

  describe('numbers', () => {
    it('error rate over the last hour, from every outcome recorded, late ones included', async () => {
      const endpoint = await integration('webhook', 'Rates');
      const now = Date.now();
      for (const minutesAgo of [50, 30, 10])
        await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, {
          ok: false,
          error: 'the endpoint answered 500',
          at: new Date(now - minutesAgo * 60_000),
        });
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, {
        ok: true,
        at: new Date(now - 5 * 60_000),
      });
      // A late report of an older success does not move lastSuccessAt, but it happened: it counts.
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, {
        ok: true,
        at: new Date(now - 40 * 60_000),
      });
      // Older than an hour: in the history, not in the rate.
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, {
        ok: false,
        error: 'old',
        at: new Date(now - 90 * 60_000),
      });
      const item = await itemOf(endpoint.id);
      assert.deepEqual(item.lastHour, { successes: 2, errors: 3, errorRate: 0.6 });
      const inHistory = item.history.reduce(
        (sum: { s: number; e: number }, p: Item) => ({ s: sum.s + p.successes, e: sum.e + p.errors }),
        { s: 0, e: 0 },
      );
      assert.deepEqual(inHistory, { s: 2, e: 4 });
      assert.equal(item.status, 'healthy');
      assert.equal(item.lastSuccessAt, new Date(now - 5 * 60_000).toISOString());
      // Another organisation's outcomes on an id it does not own count nothing.
      const other = await createTestOrganization({ role: 'admin', api });
      await recordIntegrationOutcome(db, other.organizationId, endpoint.id, { ok: false, error: 'not yours' });
      assert.deepEqual((await itemOf(endpoint.id)).lastHour, { successes: 2, errors: 3, errorRate: 0.6 });
    });

    it('backlog: pending deliveries, queued link changes, held mail and queued replies, paused Slack tickets', async () => {
      const endpoint = await integration('webhook', 'Backlog');
      for (const [i, status] of (['pending', 'pending', 'succeeded'] as const).entries()) {
        const id = `msg_${randomUUID()}`;
        await db.insert(webhookMessages).values({
          id,
          organizationId: admin.organizationId,
          eventType: 'ticket.created',
          payload: { i },
        });
        await db
          .insert(webhookDeliveries)
          .values({ organizationId: admin.organizationId, endpointId: endpoint.id, messageId: id, status });
      }
      const linear = await integration('linear', 'Linear');
      const ticketId = await ticket();
      for (const [externalId, syncStatus] of [
        ['issue-1', 'pending'],
        ['issue-2', 'pending'],
        ['issue-3', 'synced'],
      ] as const)
        await db.insert(externalSyncRecords).values({
          organizationId: admin.organizationId,
          supportRequestId: ticketId,
          integrationConfigId: linear.id,
          externalId,
          syncStatus,
        });
      const mailbox = await integration('email', 'Support mailbox');
      await db.execute(sql`insert into email_inbound (organization_id, integration_id, message_id, via, status)
        values (${admin.organizationId}, ${mailbox.id}, '<a@x>', 'imap', 'held'),
               (${admin.organizationId}, ${mailbox.id}, '<b@x>', 'imap', 'ingested')`);
      const slack = await integration('slack', 'Acme Slack');
      await db.insert(slackPausedThreads).values({
        integrationId: slack.id,
        ticketId,
        organizationId: admin.organizationId,
        reason: 'tokens_revoked',
      });
      const items = await health();
      const backlog = (key: string) => items.find((i) => i.key === key)?.backlog;
      assert.deepEqual(backlog(endpoint.id), { count: 2, description: 'deliveries pending' });
      assert.equal(backlog(linear.id)?.count, 2);
      assert.equal(backlog(mailbox.id)?.count, 1);
      assert.equal(backlog(slack.id)?.count, 1);
      const slackItem = items.find((i) => i.key === slack.id);
      assert.equal(slackItem.status, 'degraded', 'paused tickets are work held back');
      assert.match(slackItem.stoppedReason, /1 ticket\(s\) paused/);
      assert.equal(items.find((i) => i.key === linear.id).ticketLevelSync, true);
    });
  });

  describe('each integration fails and recovers', () => {
    it('webhooks: an endpoint answering 500, then 200', async () => {
      const endpoint = await integration('webhook', 'Flaky');
      // What the delivery batch records for a 500 (activities/webhooks/deliver-batch.ts), then for a 200.
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, {
        ok: false,
        error: 'HTTP 500 from the endpoint',
      });
      const failing = await itemOf(endpoint.id);
      assert.equal(failing.status, 'failing');
      assert.equal(failing.lastError, 'HTTP 500 from the endpoint');
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, { ok: true });
      const recovered = await itemOf(endpoint.id);
      assert.equal(recovered.status, 'healthy');
      assert.equal(recovered.lastError, 'HTTP 500 from the endpoint', 'the last error stays visible');
      assert.deepEqual(recovered.lastHour, { successes: 1, errors: 1, errorRate: 0.5 });
    });

    it("Linear: a link that fails (the activity's own path), rate limits, then a sync that gets through", async () => {
      const linear = await integration('linear', 'Linear');
      const ticketId = await ticket();
      const [link] = await db
        .insert(externalSyncRecords)
        .values({
          organizationId: admin.organizationId,
          supportRequestId: ticketId,
          integrationConfigId: linear.id,
          externalId: 'issue-1',
        })
        .returning();
      assert.ok(link);
      const ref = { organizationId: admin.organizationId, linkId: link.id };
      await noteLinkRateLimit(db, ref, new Date(Date.now() + 60_000));
      await recordIntegrationOutcome(db, admin.organizationId, linear.id, { ok: true });
      const limited = await itemOf(linear.id);
      assert.equal(limited.status, 'degraded');
      assert.match(limited.stoppedReason, /1 link\(s\) wait on Linear's rate limit/);
      await noteLinkRateLimit(db, ref, null);
      await new Promise((r) => setTimeout(r, 5));
      await markLinkFailed(db, { ...ref, code: 'forbidden', reason: 'Linear refused the token' });
      const failing = await itemOf(linear.id);
      assert.equal(failing.status, 'failing');
      assert.match(failing.lastError, /Linear refused the token/);
      await recordIntegrationOutcome(db, admin.organizationId, linear.id, { ok: true });
      assert.equal((await itemOf(linear.id)).status, 'healthy');
    });

    it('Slack: the workspace disconnected (with why), then connected again', async () => {
      const slack = await integration('slack', 'Acme Slack');
      const teamId = `T${randomUUID().slice(0, 8).toUpperCase()}`;
      await db.insert(slackWorkspaces).values({
        teamId,
        integrationId: slack.id,
        organizationId: admin.organizationId,
        teamName: 'Acme',
        botUserId: 'U0BOT',
      });
      await recordIntegrationOutcome(db, admin.organizationId, slack.id, { ok: true });
      assert.equal((await itemOf(slack.id)).status, 'healthy');
      await markWorkspaceDisconnected({ db }, teamId, 'tokens_revoked');
      const gone = await itemOf(slack.id);
      assert.equal(gone.status, 'disconnected');
      assert.match(gone.stoppedReason, /tokens_revoked/);
      await markWorkspaceConnected({ db }, teamId);
      await recordIntegrationOutcome(db, admin.organizationId, slack.id, { ok: true });
      const back = await itemOf(slack.id);
      assert.equal(back.status, 'healthy');
      assert.equal(back.stoppedReason, null);
    });

    it('email: the SMTP server refuses, then a send gets through', async () => {
      const mailbox = await integration('email', 'Support mailbox');
      // The words activities/email/send.ts records when the SMTP server refuses a login.
      await recordIntegrationOutcome(db, admin.organizationId, mailbox.id, {
        ok: false,
        error: 'SMTP: 535 authentication failed',
      });
      assert.equal((await itemOf(mailbox.id)).status, 'failing');
      await recordIntegrationOutcome(db, admin.organizationId, mailbox.id, { ok: true });
      assert.equal((await itemOf(mailbox.id)).status, 'healthy');
    });

    it('scanner: clamd that does not answer PING, and files waiting on it; then clamd that does', async () => {
      const ticketId = await ticket();
      const down = await itemOf('scanner', admin, deadScanner);
      assert.equal(down.status, 'failing');
      assert.match(down.lastError, /did not answer PING/);
      const up = await itemOf('scanner');
      assert.equal(up.status, 'healthy');
      assert.ok(up.lastSuccessAt);
      // The pipeline's own verdict: a file waiting because the scanner was unreachable keeps it failing.
      const [file] = await db
        .insert(ticketAttachments)
        .values({
          organizationId: admin.organizationId,
          supportRequestId: ticketId,
          fileName: 'a.pdf',
          fileSize: 10,
          mimeType: 'application/pdf',
          storageKey: `health/${randomUUID()}`,
          waitingReason: 'the virus scanner is unreachable',
          waitingUntil: new Date(Date.now() + 60_000),
        })
        .returning();
      const waiting = await itemOf('scanner');
      assert.equal(waiting.status, 'failing');
      assert.equal(waiting.lastError, '1 file(s) wait: the virus scanner is unreachable');
      assert.deepEqual(waiting.backlog, { count: 1, description: 'files waiting for a scan' });
      await db
        .update(ticketAttachments)
        .set({ waitingReason: null, waitingUntil: null, scanStatus: 'clean', scannedAt: new Date() })
        .where(sql`${ticketAttachments.id} = ${file?.id}`);
      const cleared = await itemOf('scanner');
      assert.equal(cleared.status, 'healthy');
      assert.equal(cleared.backlog.count, 0);
    });

    it("storage: an organisation's bucket that does not answer, then one that does", async () => {
      const { s3 } = await ensureFileServices();
      const created = await admin.fetch('POST', '/api/integrations', {
        integrationType: 'storage',
        name: 'Our bucket',
        config: { driver: 's3', endpoint: 'http://127.0.0.1:9', bucket: s3.bucket, pathStyle: true, prefix: 'h/' },
        credentials: { accessKey: s3.accessKey, secretKey: s3.secretKey },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const down = await itemOf(created.body.id);
      assert.equal(down.status, 'failing');
      assert.ok(down.lastError);
      assert.equal(down.lastHour.errors, 1);
      const changed = await admin.fetch('PATCH', `/api/integrations/${created.body.id}`, {
        config: { driver: 's3', endpoint: s3.endpoint, bucket: s3.bucket, pathStyle: true, prefix: 'h/' },
        credentials: { accessKey: s3.accessKey, secretKey: s3.secretKey },
      });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      const up = await itemOf(created.body.id);
      assert.equal(up.status, 'healthy');
      assert.deepEqual(up.lastHour, { successes: 1, errors: 1, errorRate: 0.5 });
      assert.equal((await itemOf('storage:default')).status, 'healthy');
    });
  });

  describe('sampling', () => {
    it('notices a change into failing once, not on every sample', async () => {
      const endpoint = await integration('webhook', 'Watched');
      const modules = await loadIntegrationServers(integrations);
      const sample = () => sampleIntegrationHealth(api.deps, modules, admin.organizationId);
      assert.deepEqual((await sample()).transitions, []);
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, { ok: false, error: 'HTTP 503' });
      const first = await sample();
      assert.deepEqual(
        first.transitions.map((t) => [t.item.key, t.before, t.after]),
        [[endpoint.id, 'unknown', 'failing']],
      );
      assert.deepEqual((await sample()).transitions, []);
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, { ok: true });
      assert.deepEqual((await sample()).transitions, []);
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, { ok: false, error: 'HTTP 503' });
      assert.equal((await sample()).transitions.length, 1, 'healthy → failing again is a new failure');
    });
  });

  describe('/metrics', () => {
    it('counts integrations by type and status, backlog and the last hour, never by organisation', async () => {
      const endpoint = await integration('webhook', 'Metered');
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, { ok: true });
      await recordIntegrationOutcome(db, admin.organizationId, endpoint.id, { ok: false, error: 'HTTP 500' });
      await health();
      const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        assert.ok(
          line,
          `no ${series} in\n${text
            .split('\n')
            .filter((l) => l.includes('integration'))
            .join('\n')}`,
        );
        return Number(line.split(' ')[1]);
      };
      assert.ok(value('switchboard_integrations{integration_type="webhook",status="failing"}') >= 1);
      assert.ok(value('switchboard_integration_outcomes_last_hour{integration_type="webhook",outcome="error"}') >= 1);
      assert.ok(value('switchboard_integration_outcomes_last_hour{integration_type="webhook",outcome="success"}') >= 1);
      assert.ok(value('switchboard_integration_backlog{integration_type="storage"}') >= 0);
      assert.ok(value('switchboard_integration_health_sampled_timestamp_seconds') > Date.now() / 1000 - 60);
      assert.ok(!text.includes(admin.organizationId), 'no organisation id in the metrics');
      assert.ok(!text.includes(endpoint.id), 'no integration id in the metrics');
    });
  });
});
