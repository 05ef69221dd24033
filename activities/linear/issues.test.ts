// Creating and linking Linear issues from tickets, against the local Linear server and the real database: what
// the issue says, that retries never create a second one, which refs link, and how Linear's failures surface
// (rate limits, expiring and revoked tokens) as the typed failures the workflows act on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { externalSyncRecords, integrationConfigs } from '@switchboard/database';
import type { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { credentialContext } from '../../common/credentials.ts';
import { openJson } from '../../common/crypto/envelope.ts';
import type { LinearCredentials } from '../../domain/integrations/linear-config.ts';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { testDatabase } from '../../test/support/database.ts';
import type { LinearIssueRequest } from '../../workflows/linear-contract.ts';
import { linearFailureTypes } from './contract.ts';
import { parseIssueRef } from './find-issue.ts';
import {
  closeLinearWorld,
  type LinearWorld,
  linearFailure,
  linearWorld,
  makeInstallation,
  makeTicket,
  memberKnownToLinear,
  oauthCredentials,
  oauthTokens,
} from './test-support.ts';

type CreateRequest = Extract<LinearIssueRequest, { mode: 'create' }>;
type LinkRequest = Extract<LinearIssueRequest, { mode: 'link' }>;

describe('Linear activities: issues', function () {
  this.timeout(30_000);
  let world: LinearWorld;

  beforeEach(async () => {
    world = await linearWorld();
  });
  afterEach(() => closeLinearWorld(world));

  const createRequest = (integrationId: string, ticketId: string, extra: Partial<CreateRequest> = {}) =>
    ({
      organizationId: world.org.organizationId,
      ticketId,
      integrationId,
      requestKey: 'manual-1',
      requestedBy: world.org.scope.actor,
      mode: 'create',
      ...extra,
    }) satisfies CreateRequest;

  const linkRequest = (integrationId: string, ticketId: string, issueRef: string) =>
    ({
      organizationId: world.org.organizationId,
      ticketId,
      integrationId,
      requestKey: `link-${randomUUID()}`,
      requestedBy: world.org.scope.actor,
      mode: 'link',
      issueRef,
    }) satisfies LinkRequest;

  describe('createLinearIssue', () => {
    it('creates the issue with the mapped priority, labels, assignee by email and a summary that links back', async () => {
      const bug = world.linear.state.labelByName('Bug')!;
      const integrationId = await makeInstallation(world, 'apiKey', { labelIds: [bug.id] });
      const grace = await memberKnownToLinear(world, 'Grace Hopper');
      const ticket = await makeTicket(world, {
        subject: 'Export to CSV fails for large accounts',
        description: 'Clicking export spins forever.\nIt started on Monday.',
        priority: 'urgent',
        tags: ['bug', 'export'],
        requesterEmail: 'mia@customer.test',
        requesterName: 'Mia Chen',
        assigneeId: grace.userId,
      });

      const issue = await world.activities.createLinearIssue(createRequest(integrationId, ticket.id));

      const ticketUrl = `https://desk.example.test/tickets/${ticket.id}`;
      assert.equal(issue.identifier, 'ENG-1');
      assert.equal(issue.title, 'Export to CSV fails for large accounts');
      assert.equal(issue.priority, 1, 'urgent is Linear priority 1');
      assert.deepEqual(issue.assignee, { name: 'Grace Hopper', email: grace.email });
      assert.equal(issue.state?.type, 'unstarted');
      const stored = world.linear.state.issue('ENG-1');
      assert.deepEqual(stored.labelIds, [bug.id]);
      assert.match(stored.description ?? '', /Mia Chen <mia@customer\.test>/);
      assert.match(stored.description ?? '', /\*\*Tags:\*\* bug, export/);
      assert.match(stored.description ?? '', /> Clicking export spins forever\./);
      assert.ok(stored.description?.includes(ticketUrl), 'the description links back to the ticket');
      const attachments = world.linear.state.issueAttachments(stored.id);
      assert.equal(attachments.length, 1);
      assert.equal(attachments[0]!.url, ticketUrl);
      assert.equal(attachments[0]!.title, `Ticket #${ticket.number}: Export to CSV fails for large accounts`);
      assert.equal(attachments[0]!.subtitle, 'Status: open');
    });

    it('names every GraphQL operation it sends (operationName), as Linear asks of API clients', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      await world.activities.createLinearIssue(createRequest(integrationId, ticket.id));
      const sent = world.linear.operations.map((o) => [o.rootFields[0], o.operationName]);
      assert.ok(sent.length >= 2, 'a lookup by the derived id, then the create');
      assert.deepEqual(
        sent.filter(([, name]) => name === null),
        [],
        'no operation reaches Linear unnamed',
      );
      assert.deepEqual(
        sent.find(([field]) => field === 'issueCreate'),
        ['issueCreate', 'SwitchboardIssueCreate'],
      );
    });

    it('uses the requested title, and leaves the issue unassigned when Linear does not know the assignee', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const stranger = await memberKnownToLinear(world, 'Sam Stranger', { inLinear: false });
      const ticket = await makeTicket(world, { assigneeId: stranger.userId });
      const issue = await world.activities.createLinearIssue(
        createRequest(integrationId, ticket.id, { title: 'CSV export times out' }),
      );
      assert.equal(issue.title, 'CSV export times out');
      assert.equal(issue.assignee, null);
      assert.equal(issue.priority, 3, 'normal is Linear priority 3');
    });

    it('a retried request finds the issue its first attempt created instead of creating another', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      const first = await world.activities.createLinearIssue(createRequest(integrationId, ticket.id));
      // Called again with the same key (a replayed request): the same issue.
      const again = await world.activities.createLinearIssue(createRequest(integrationId, ticket.id));
      assert.deepEqual(again, first);
      assert.equal(world.linear.countCalls('issueCreate'), 1);
      assert.equal(world.linear.state.issues.size, 1);
      assert.equal(world.linear.state.issueAttachments(first.id).length, 1, 'the attachment is an upsert');

      // Linear created the issue but the answer was lost: the retried attempt finds it by its id.
      world.linear.failures.dropResponseNext(1, { rootField: 'issueCreate' });
      await assert.rejects(
        world.activities.createLinearIssue(createRequest(integrationId, ticket.id, { requestKey: 'lost' })),
        linearFailure('LinearUnavailable', false),
      );
      assert.equal(world.linear.state.issues.size, 2, 'the lost attempt did create it');
      const found = await world.activities.createLinearIssue(
        createRequest(integrationId, ticket.id, { requestKey: 'lost' }),
      );
      assert.equal(found.identifier, 'ENG-2');
      assert.equal(world.linear.countCalls('issueCreate'), 2);
      assert.equal(world.linear.state.issues.size, 2);
      assert.equal(world.linear.state.issueAttachments(found.id).length, 1, 'the retry attached the ticket');

      // A retry whose first request never reached Linear creates it then, once.
      world.linear.failures.dropConnectionNext(1);
      await assert.rejects(
        world.activities.createLinearIssue(createRequest(integrationId, ticket.id, { requestKey: 'manual-2' })),
        linearFailure('LinearUnavailable', false),
      );
      const second = await world.activities.createLinearIssue(
        createRequest(integrationId, ticket.id, { requestKey: 'manual-2' }),
      );
      assert.notEqual(second.id, first.id, 'another request key is another issue');
      assert.equal(world.linear.countCalls('issueCreate'), 3);
    });

    it('refuses to create without a team, for good', async () => {
      const integrationId = await makeInstallation(world, 'apiKey', { teamId: undefined });
      const ticket = await makeTicket(world);
      await assert.rejects(
        world.activities.createLinearIssue(createRequest(integrationId, ticket.id)),
        linearFailure(linearFailureTypes.invalidInput, true, /choose a team/),
      );
      assert.equal(world.linear.countCalls('issueCreate'), 0);
    });
  });

  describe('findAndAttachLinearIssue and recordLink', () => {
    it('links an issue by identifier or by URL and attaches the ticket to it', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      const existing = world.linear.simulate.createIssue({ title: 'Exports are slow', stateName: 'In Progress' });

      const byKey = await world.activities.findAndAttachLinearIssue(linkRequest(integrationId, ticket.id, 'eng-1'));
      assert.equal(byKey.id, existing.id);
      assert.equal(byKey.identifier, 'ENG-1');
      assert.equal(byKey.state?.name, 'In Progress');
      const byUrl = await world.activities.findAndAttachLinearIssue(
        linkRequest(integrationId, ticket.id, 'https://linear.app/acme/issue/ENG-1/exports-are-slow'),
      );
      assert.equal(byUrl.id, existing.id);
      const attachments = world.linear.state.issueAttachments(existing.id);
      assert.deepEqual(
        attachments.map((a) => a.url),
        [`https://desk.example.test/tickets/${ticket.id}`],
      );

      const recorded = await world.activities.recordLink({
        organizationId: world.org.organizationId,
        ticketId: ticket.id,
        integrationId,
        issue: byKey,
      });
      assert.equal(recorded.created, true);
      const again = await world.activities.recordLink({
        organizationId: world.org.organizationId,
        ticketId: ticket.id,
        integrationId,
        issue: byUrl,
      });
      assert.deepEqual(again, { linkId: recorded.linkId, created: false });
      const [row] = await testDatabase()
        .db.select()
        .from(externalSyncRecords)
        .where(eq(externalSyncRecords.id, recorded.linkId));
      assert.equal(row!.externalId, existing.id);
      assert.equal(row!.externalKey, 'ENG-1');
      assert.equal(row!.syncStatus, 'pending');
      assert.deepEqual((row!.state as { issue: unknown }).issue, byKey);
    });

    it('refuses refs that are not a Linear issue, and issues of another workspace', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      for (const ref of ['ENG', '123', 'https://github.com/acme/app/issues/1', 'http://linear.app/acme/issue/ENG-1']) {
        await assert.rejects(
          world.activities.findAndAttachLinearIssue(linkRequest(integrationId, ticket.id, ref)),
          linearFailure(linearFailureTypes.invalidInput, true),
          ref,
        );
      }
      await assert.rejects(
        world.activities.findAndAttachLinearIssue(
          linkRequest(integrationId, ticket.id, 'https://linear.app/other/issue/ENG-1/x'),
        ),
        linearFailure(linearFailureTypes.invalidInput, true, /workspace "other"/),
      );
      assert.equal(world.linear.operations.length, 0, 'nothing was asked of Linear');
    });

    it('an identifier Linear does not know is LinearIssueNotFound', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      await assert.rejects(
        world.activities.findAndAttachLinearIssue(linkRequest(integrationId, ticket.id, 'ENG-404')),
        linearFailure(linearFailureTypes.issueNotFound, true),
      );
    });

    it('parses identifiers and linear.app URLs only', () => {
      assert.deepEqual(parseIssueRef(' eng-12 '), { identifier: 'ENG-12', workspace: null });
      assert.deepEqual(parseIssueRef('https://linear.app/acme/issue/SUP-3/some-title?x=1'), {
        identifier: 'SUP-3',
        workspace: 'acme',
      });
      assert.equal(parseIssueRef('https://linear.app.evil.test/acme/issue/ENG-1'), null);
      assert.equal(parseIssueRef('https://linear.app/acme/project/ENG-1'), null);
    });
  });

  describe("Linear's failures", () => {
    it('a rate-limited call is retryable at the reset Linear gave when that comes sooner; until then none is sent', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      world.linear.failures.rateLimitNext(1, { resetInMs: 1_500 });
      let delay = 0;
      await assert.rejects(world.activities.createLinearIssue(createRequest(integrationId, ticket.id)), (err) => {
        linearFailure(linearFailureTypes.rateLimited, false)(err);
        delay = (err as ApplicationFailure).nextRetryDelay as number;
        assert.ok(delay > 1_000 && delay <= 1_500, `${delay} ms`);
        return true;
      });
      // Another activity of the installation in this worker holds back instead of meeting RATELIMITED too.
      const sent = world.linear.operations.length;
      await assert.rejects(
        world.activities.createLinearIssue(createRequest(integrationId, ticket.id)),
        linearFailure(linearFailureTypes.rateLimited, false),
      );
      assert.equal(world.linear.operations.length, sent);
      await new Promise((resolve) => setTimeout(resolve, delay));
      const issue = await world.activities.createLinearIssue(createRequest(integrationId, ticket.id));
      assert.equal(issue.identifier, 'ENG-1');
    });

    it('a rate limit whose reset is an hour away is retried once the budget refilled past the reserve, in seconds', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      world.linear.failures.rateLimitNext(1, { resetInMs: 3_600_000 });
      await assert.rejects(world.activities.createLinearIssue(createRequest(integrationId, ticket.id)), (err) => {
        linearFailure(linearFailureTypes.rateLimited, false)(err);
        // 5000 requests an hour, none left: the reserve (50) and one more refill in 51 × 720 ms, not in an hour.
        const delay = (err as ApplicationFailure).nextRetryDelay as number;
        assert.ok(delay > 36_000 && delay <= 36_720, `${delay} ms`);
        return true;
      });
    });

    it('an expiring OAuth token is refreshed once for concurrent activities, and the rotated one is stored', async () => {
      const tokens = await oauthTokens(world);
      // A minute left: inside the 5-minute refresh margin, so both activities want a fresh token.
      const integrationId = await makeInstallation(world, {
        ...oauthCredentials(tokens),
        expiresAt: Date.now() + 60_000,
      });
      const ticket = await makeTicket(world);
      world.linear.simulate.createIssue({ title: 'Already there' });

      const [a, b] = await Promise.all([
        world.activities.createLinearIssue(createRequest(integrationId, ticket.id)),
        world.activities.findAndAttachLinearIssue(linkRequest(integrationId, ticket.id, 'ENG-1')),
      ]);
      assert.equal(a.identifier, 'ENG-2');
      assert.equal(b.identifier, 'ENG-1');
      assert.equal(world.linear.oauth.refreshCount(), 1, 'one refresher per installation');
      const stored = await storedCredentials(world, integrationId);
      assert.notEqual(stored.accessToken, tokens.accessToken);
      assert.notEqual(stored.refreshToken, tokens.refreshToken, 'Linear rotated the refresh token');
    });

    it('a token Linear stopped accepting early is refreshed and the call retried once', async () => {
      const tokens = await oauthTokens(world);
      const integrationId = await makeInstallation(world, oauthCredentials(tokens));
      const ticket = await makeTicket(world);
      world.linear.failures.expireToken(tokens.accessToken);
      const issue = await world.activities.createLinearIssue(createRequest(integrationId, ticket.id));
      assert.equal(issue.identifier, 'ENG-1');
      assert.equal(world.linear.oauth.refreshCount(), 1);
    });

    it('a revoked token is LinearAuthRevoked, not retried', async () => {
      const tokens = await oauthTokens(world);
      const integrationId = await makeInstallation(world, oauthCredentials(tokens));
      const ticket = await makeTicket(world);
      world.linear.failures.revokeToken(tokens.accessToken);
      await assert.rejects(
        world.activities.createLinearIssue(createRequest(integrationId, ticket.id)),
        linearFailure(linearFailureTypes.authRevoked, true, /reconnect/i),
      );
      assert.equal(world.linear.countCalls('issueCreate'), 0);
    });

    it('an installation of another organisation is not found', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      await assert.rejects(
        world.activities.createLinearIssue({
          ...createRequest(integrationId, ticket.id),
          organizationId: (await makeOrganization()).organizationId,
        }),
        linearFailure(linearFailureTypes.notConnected, true),
      );
    });
  });
});

async function storedCredentials(world: LinearWorld, integrationId: string): Promise<LinearCredentials> {
  const [row] = await testDatabase()
    .db.select()
    .from(integrationConfigs)
    .where(eq(integrationConfigs.id, integrationId));
  return openJson(
    world.config.credentialKeys,
    row!.credentials!,
    credentialContext(row!.organizationId, integrationId),
  ) as LinearCredentials;
}
