// A switched-off installation (isActive=false, PATCH /api/integrations/{id}) stops syncing: its webhooks and ticket
// events are no longer routed, and here, the activities that would still call Linear (a link's reconcile, an issue
// requested before the switch) fail as LinearNotConnected without a request, so the link pauses with that reason.
import assert from 'node:assert/strict';
import { externalSyncRecords, integrationConfigs } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { testDatabase } from '../../test/support/database.ts';
import { linearFailureTypes } from './contract.ts';
import {
  closeLinearWorld,
  type LinearWorld,
  linearFailure,
  linearWorld,
  makeInstallation,
  makeTicket,
  oauthCredentials,
  oauthTokens,
} from './test-support.ts';

describe('Linear activities: a switched-off installation', function () {
  this.timeout(30_000);
  let world: LinearWorld;

  beforeEach(async () => {
    world = await linearWorld();
  });
  afterEach(() => closeLinearWorld(world));

  const switchTo = (integrationId: string, isActive: boolean) =>
    testDatabase().db.update(integrationConfigs).set({ isActive }).where(eq(integrationConfigs.id, integrationId));

  /** Every request the fake Linear received: GraphQL operations and OAuth calls. */
  const requestsToLinear = () => world.linear.operations.length + world.linear.oauth.calls.length;

  const switchedOff = linearFailure(linearFailureTypes.notConnected, true, /switched off/);

  async function linkTo(integrationId: string) {
    const ticket = await makeTicket(world);
    const issue = world.linear.simulate.createIssue({ title: 'Export to CSV fails', teamKey: 'ENG' });
    const identifier = world.linear.state.identifier(issue);
    const [row] = await testDatabase()
      .db.insert(externalSyncRecords)
      .values({
        organizationId: world.org.organizationId,
        supportRequestId: ticket.id,
        integrationConfigId: integrationId,
        externalId: issue.id,
        externalKey: identifier,
        externalUrl: world.linear.state.issueUrl(issue),
        syncStatus: 'synced',
        state: { origin: 'created' },
      })
      .returning({ id: externalSyncRecords.id });
    return { organizationId: world.org.organizationId, linkId: row!.id };
  }

  it('fails a link’s reconcile as LinearNotConnected, not retried, without a request to Linear', async () => {
    const integrationId = await makeInstallation(world, 'apiKey');
    const ref = await linkTo(integrationId);
    await switchTo(integrationId, false);
    const before = requestsToLinear();

    await assert.rejects(world.activities.readLinkSnapshot(ref), switchedOff);
    assert.equal(requestsToLinear(), before);
  });

  it('reads the link again once the installation is switched back on', async () => {
    const integrationId = await makeInstallation(world, 'apiKey');
    const ref = await linkTo(integrationId);
    await switchTo(integrationId, false);
    await assert.rejects(world.activities.readLinkSnapshot(ref), switchedOff);

    await switchTo(integrationId, true);
    const snapshot = await world.activities.readLinkSnapshot(ref);
    assert.equal(snapshot.link, 'active');
  });

  it('creates no issue for a switched-off installation', async () => {
    const integrationId = await makeInstallation(world, 'apiKey');
    const ticket = await makeTicket(world);
    await switchTo(integrationId, false);
    const before = requestsToLinear();

    await assert.rejects(
      world.activities.createLinearIssue({
        organizationId: world.org.organizationId,
        ticketId: ticket.id,
        integrationId,
        requestKey: 'manual-1',
        requestedBy: world.org.scope.actor,
        mode: 'create',
      }),
      switchedOff,
    );
    assert.equal(requestsToLinear(), before);
    assert.equal(world.linear.countCalls('issueCreate'), 0);
  });

  it('does not refresh an expiring OAuth token of a switched-off installation', async () => {
    const tokens = await oauthTokens(world);
    const integrationId = await makeInstallation(world, { ...oauthCredentials(tokens), expiresAt: Date.now() });
    const ref = await linkTo(integrationId);
    await switchTo(integrationId, false);
    const before = requestsToLinear();

    await assert.rejects(world.activities.readLinkSnapshot(ref), switchedOff);
    assert.equal(requestsToLinear(), before);
    assert.equal(world.linear.oauth.refreshCount(), 0);
  });
});
