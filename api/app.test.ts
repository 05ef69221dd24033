import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { supportRequests } from '@switchboard/database';
import { count } from 'drizzle-orm';
import { createLogger } from '../common/logger.ts';
import { apiFetch, createTestOrganization, startTestApi, type TestApi, type TestUser } from '../test/support/api.ts';
import { truncateAll } from '../test/support/database.ts';

describe('the API app', () => {
  let api: TestApi;
  let agent: TestUser;
  before(async () => {
    await truncateAll();
    api = await startTestApi({ config: { bodyLimit: '2kb' } });
    agent = await createTestOrganization({ role: 'agent' });
  });
  after(() => api.close());

  async function ticketCount() {
    const [row] = await api.deps.db.select({ n: count() }).from(supportRequests);
    return row!.n;
  }

  describe('request ids', () => {
    it('echoes a caller’s x-request-id and puts it in error bodies', async () => {
      const response = await apiFetch(api, 'GET', '/api/me', undefined, { 'x-request-id': 'trace-42' });
      assert.equal(response.headers.get('x-request-id'), 'trace-42');
      assert.equal(response.body.error.requestId, 'trace-42');
    });

    it('makes one up when none (or a suspicious one) is given', async () => {
      const given: Record<string, string>[] = [{}, { 'x-request-id': 'spaces and\ttabs' }];
      for (const headers of given) {
        const response = await apiFetch(api, 'GET', '/healthz', undefined, headers);
        assert.match(response.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
      }
    });
  });

  describe('bad requests change nothing', () => {
    let before: number;
    beforeEach(async () => {
      before = await ticketCount();
    });
    afterEach(async () => {
      assert.equal(await ticketCount(), before, 'no ticket was written');
    });

    it('answers malformed JSON with 400 malformed_json', async () => {
      const response = await agent.fetch('POST', '/api/tickets', undefined, { raw: '{"subject": "Printer on fire",' });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'malformed_json');
    });

    it('answers a body over the limit with 413 payload_too_large', async () => {
      const response = await agent.fetch('POST', '/api/tickets', { subject: 'Big', description: 'x'.repeat(4096) });
      assert.equal(response.status, 413);
      assert.equal(response.body.error.code, 'payload_too_large');
    });

    it('answers a body that is not JSON with 415', async () => {
      const response = await agent.fetch('POST', '/api/tickets', undefined, {
        raw: 'subject=Printer',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(response.status, 415);
      assert.match(response.body.error.message, /application\/json/);
    });

    it('answers an unknown field with 422 naming it', async () => {
      const response = await agent.fetch('POST', '/api/tickets', { subject: 'Printer', severity: 'high' });
      assert.equal(response.status, 422);
      assert.equal(response.body.error.code, 'validation_failed');
      assert.match(response.body.error.message, /severity/);
    });

    it('answers a value outside an enum with 422 naming the field', async () => {
      const response = await agent.fetch('POST', '/api/tickets', { subject: 'Printer', priority: 'critical' });
      assert.equal(response.status, 422);
      assert.deepEqual(
        response.body.error.details.map((d: { path: string }) => d.path),
        ['body.priority'],
      );
    });

    it('answers a viewer’s write with 403', async () => {
      const viewer = await createTestOrganization({ role: 'viewer' });
      const response = await viewer.fetch('POST', '/api/tickets', { subject: 'Printer' });
      assert.equal(response.status, 403);
      assert.equal(response.body.error.code, 'forbidden');
    });
  });

  it('lets an API key write without an Origin header (browsers cannot send it on their own)', async () => {
    const response = await agent.fetch('POST', '/api/tickets', { subject: 'From a script' }, { as: 'apiKey' });
    assert.equal(response.status, 201);
  });

  it('answers an unknown /api route with a JSON 404 (after authentication)', async () => {
    const response = await agent.fetch('GET', '/api/nothing-here');
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
    assert.equal((await apiFetch(api, 'GET', '/api/nothing-here')).status, 401);
  });
});

describe('request logs', () => {
  it('carry the request id, route and status, never credentials or bodies', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const api = await startTestApi({ logger: createLogger('info', 'test', stream) });
    try {
      const admin = await createTestOrganization({ api });
      await admin.fetch('POST', '/api/tickets', { subject: 'Password is hunter2' }, { as: 'apiKey' });
      await apiFetch(
        api,
        'POST',
        '/api/auth/sign-in/email',
        { email: admin.email, password: admin.password },
        { origin: api.baseUrl, 'x-request-id': 'login-1' },
      );
      const text = lines.join('');
      for (const secret of [admin.apiKey, admin.password, admin.cookie.split('=')[1]!, 'hunter2'])
        assert.ok(!text.includes(secret), `log contains ${secret.slice(0, 6)}…`);
      const login = lines.map((l) => JSON.parse(l)).find((l) => l.requestId === 'login-1');
      assert.deepEqual(
        { method: login.method, path: login.path, status: login.status },
        { method: 'POST', path: '/api/auth/sign-in/email', status: 200 },
      );
    } finally {
      await api.close();
    }
  });
});

describe('serving the dashboard', () => {
  let api: TestApi;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Switchboard</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log("app")');
    api = await startTestApi({ dashboardDir: dir });
  });
  after(() => api.close());

  it('serves built files, and index.html for client-side routes', async () => {
    const asset = await apiFetch(api, 'GET', '/assets/app.js');
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type')!, /javascript/);
    const page = await apiFetch(api, 'GET', '/tickets/123', undefined, { accept: 'text/html' });
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>Switchboard<\/title>/);
  });

  it('never answers an /api path with the dashboard', async () => {
    const response = await apiFetch(api, 'GET', '/api/unknown', undefined, { accept: 'text/html' });
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'unauthenticated');
  });
});
