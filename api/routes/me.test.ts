import assert from 'node:assert/strict';
import { addTestMember, createTestOrganization, startTestApi, type TestApi } from '../../test/support/api.ts';
import { truncateAll } from '../../test/support/database.ts';

describe('/api/me', () => {
  let api: TestApi;
  before(async () => {
    await truncateAll();
    api = await startTestApi();
  });
  after(() => api.close());

  it('tells the caller who they are, where and with which role', async () => {
    const admin = await createTestOrganization({ name: 'Globex Support', userName: 'Grace Admin' });
    const viewer = await addTestMember(admin.organizationId, { role: 'viewer', name: 'Vic Viewer' });
    const response = await viewer.fetch('GET', '/api/me');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.user, { id: viewer.userId, name: 'Vic Viewer', email: viewer.email });
    assert.equal(response.body.organization.id, admin.organizationId);
    assert.equal(response.body.organization.name, 'Globex Support');
    assert.equal(response.body.role, 'viewer');
  });
});
