import assert from 'node:assert/strict';
import { loadDeliveryPolicy } from '../../activities/webhooks/endpoint.ts';
import { DEFAULT_RETRY_DELAYS_MS } from '../../common/webhooks/retry-schedule.ts';
import { writeCounts } from '../../domain/test-fixtures.ts';
import {
  addTestMember,
  createTestOrganization,
  startTestApi,
  type TestApi,
  type TestUser,
} from '../../test/support/api.ts';
import { truncateAll } from '../../test/support/database.ts';

const PATH = '/api/webhooks/retry-schedule';

describe('webhook retry schedule API', () => {
  let api: TestApi;
  let admin: TestUser;
  before(async () => {
    await truncateAll();
    api = await startTestApi();
    admin = await createTestOrganization({ role: 'admin' });
  });
  after(() => api.close());

  it('shows the default, sets a schedule that the delivery code then uses, and resets it with null', async () => {
    const initial = await admin.fetch('GET', PATH);
    assert.equal(initial.status, 200, JSON.stringify(initial.body));
    assert.equal(initial.body.isDefault, true);
    assert.deepEqual(initial.body.retryDelaysSeconds, [5, 300, 1800, 7200, 18000, 36000, 36000]);

    const set = await admin.fetch('PUT', PATH, { retryDelaysSeconds: [10, 60, 60, 3600, 86_400] });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.retryDelaysSeconds, [10, 60, 60, 3600, 86_400]);
    assert.equal(set.body.isDefault, false);
    assert.deepEqual((await admin.fetch('GET', PATH)).body.retryDelaysSeconds, [10, 60, 60, 3600, 86_400]);
    const policy = await loadDeliveryPolicy(api.deps.db, admin.organizationId);
    assert.deepEqual(policy.retryDelaysMs, [0, 10_000, 60_000, 60_000, 3_600_000, 86_400_000]);

    // Another organisation keeps its own (the default).
    const other = await createTestOrganization({ role: 'admin' });
    assert.equal((await other.fetch('GET', PATH)).body.isDefault, true);
    assert.deepEqual(
      (await loadDeliveryPolicy(api.deps.db, other.organizationId)).retryDelaysMs,
      DEFAULT_RETRY_DELAYS_MS,
    );

    const reset = await admin.fetch('PUT', PATH, { retryDelaysSeconds: null });
    assert.equal(reset.status, 200);
    assert.equal(reset.body.isDefault, true);
    assert.deepEqual(
      (await loadDeliveryPolicy(api.deps.db, admin.organizationId)).retryDelaysMs,
      DEFAULT_RETRY_DELAYS_MS,
    );
  });

  it('refuses a schedule that is not increasing, too long, over 24 h a step, or not whole seconds, naming the step', async () => {
    await admin.fetch('PUT', PATH, { retryDelaysSeconds: [30, 600] });
    const before = await writeCounts();
    const cases: [unknown, string, RegExp][] = [
      [[60, 30, 600], 'body.retryDelaysSeconds.1', /at least as long as the one before \(60 s\)/],
      [[60, 86_401], 'body.retryDelaysSeconds.1', /at most 86400 seconds/],
      [Array.from({ length: 21 }, (_, i) => i + 1), 'body.retryDelaysSeconds', /at most 20 retries/],
      [[], 'body.retryDelaysSeconds', /at least one retry/],
      [[1.5], 'body.retryDelaysSeconds.0', /whole number of seconds/],
      [[0, 5], 'body.retryDelaysSeconds.0', /at least 1 second/],
      ['5,10', 'body.retryDelaysSeconds', /./],
    ];
    for (const [retryDelaysSeconds, path, message] of cases) {
      const response = await admin.fetch('PUT', PATH, { retryDelaysSeconds });
      assert.equal(response.status, 422, JSON.stringify(retryDelaysSeconds));
      const detail = response.body.error.details.find((d: { path: string }) => d.path === path);
      assert.ok(detail, `${JSON.stringify(retryDelaysSeconds)}: ${JSON.stringify(response.body.error.details)}`);
      assert.match(detail.message, message);
    }
    assert.equal((await admin.fetch('PUT', PATH, {})).status, 422, 'the field is required');
    assert.deepEqual(await writeCounts(), before);
    assert.deepEqual((await admin.fetch('GET', PATH)).body.retryDelaysSeconds, [30, 600]);
  });

  it('is for admins only (403 for agents and viewers), changing nothing', async () => {
    const schedule = (await admin.fetch('GET', PATH)).body;
    const before = await writeCounts();
    for (const role of ['agent', 'viewer'] as const) {
      const member = await addTestMember(admin.organizationId, { role });
      assert.equal((await member.fetch('GET', PATH)).status, 403, role);
      assert.equal((await member.fetch('PUT', PATH, { retryDelaysSeconds: [1] })).status, 403, role);
    }
    assert.deepEqual(await writeCounts(), before);
    assert.deepEqual((await admin.fetch('GET', PATH)).body, schedule);
  });
});
