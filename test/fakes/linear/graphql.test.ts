// The fake's GraphQL API as the integration sees it: through the real @linear/sdk client.
import assert from 'node:assert/strict';
import {
  ForbiddenLinearError,
  GraphqlLinearError,
  InvalidInputLinearError,
  LinearClient,
  LinearDocument,
} from '@linear/sdk';
import { parse, validate } from 'graphql';
import { linearSchema } from './schema.ts';
import { createLinearFake, type LinearFake } from './server.ts';

describe('Linear fake: GraphQL through @linear/sdk', () => {
  let fake: LinearFake;
  let client: LinearClient;
  const engTeam = () => {
    const team = fake.state.teamByKey('ENG');
    assert.ok(team);
    return team;
  };

  beforeEach(async () => {
    fake = await createLinearFake();
    client = new LinearClient({ apiKey: fake.apiKey, apiUrl: fake.graphqlUrl });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('serves the SDK documents against the schema they were generated from', () => {
    // The premise of the fake: the pinned SDK and shared/linear/schema.graphql agree, so validation is meaningful.
    const schema = linearSchema();
    // Widened on purpose: the SDK's union of ~1300 document types is too much for the type checker to compare.
    const documents: Array<[string, unknown]> = Object.entries(LinearDocument as Record<string, unknown>);
    const invalid = documents
      .filter(([name]) => name.endsWith('Document'))
      .filter(([, document]) => validate(schema, parse(String(document))).length > 0)
      .map(([name]) => name);
    assert.deepEqual(invalid, []);
  });

  it('answers who the API key belongs to, and the workspace, teams, workflow states, members and labels', async () => {
    const viewer = await client.viewer;
    assert.equal(viewer.email, 'ada@acme.test');
    assert.equal(viewer.isMe, true);
    assert.equal((await client.organization).urlKey, 'acme');

    const teams = await client.teams();
    assert.deepEqual(teams.nodes.map((t) => t.key).sort(), ['ENG', 'SUP']);
    const eng = await client.team(engTeam().id);
    const states = await eng.states();
    assert.deepEqual(
      states.nodes.map((s) => [s.name, s.type]),
      [
        ['Backlog', 'backlog'],
        ['Todo', 'unstarted'],
        ['In Progress', 'started'],
        ['In Review', 'started'],
        ['Done', 'completed'],
        ['Canceled', 'canceled'],
      ],
    );
    assert.deepEqual((await eng.members()).nodes.map((m) => m.email).sort(), [
      'ada@acme.test',
      'grace@acme.test',
      'linus@acme.test',
    ]);
    // Team labels plus workspace labels, as Linear lists them for a team.
    assert.deepEqual((await eng.labels()).nodes.map((l) => l.name).sort(), [
      'Bug',
      'Customer',
      'Feature',
      'Improvement',
    ]);
    fake.assertNoRejectedOperations();
  });

  it('finds users by email, case-insensitively when asked to', async () => {
    const exact = await client.users({ filter: { email: { eq: 'grace@acme.test' } } });
    assert.deepEqual(
      exact.nodes.map((u) => u.name),
      ['Grace Hopper'],
    );
    const loose = await client.users({ filter: { email: { eqIgnoreCase: 'GRACE@ACME.TEST' } } });
    assert.equal(loose.nodes.length, 1);
    const nobody = await client.users({ filter: { email: { eq: 'nobody@acme.test' } } });
    assert.equal(nobody.nodes.length, 0);
  });

  it('creates an issue and reads it back by id and by identifier with its state, assignee and labels', async () => {
    const grace = fake.state.userByEmail('grace@acme.test');
    const bug = fake.state.labelByName('Bug', engTeam().id);
    assert.ok(grace && bug);
    const payload = await client.createIssue({
      teamId: engTeam().id,
      title: 'Printer on fire',
      description: 'From ticket #42',
      priority: 1,
      assigneeId: grace.id,
      labelIds: [bug.id],
    });
    assert.equal(payload.success, true);
    const created = await payload.issue;
    assert.ok(created);
    assert.equal(created.identifier, 'ENG-1');
    assert.equal(created.url, 'https://linear.app/acme/issue/ENG-1/printer-on-fire');
    assert.equal(created.priorityLabel, 'Urgent');

    for (const key of [created.id, 'ENG-1', 'eng-1']) {
      const issue = await client.issue(key);
      assert.equal(issue.id, created.id);
      assert.equal(issue.title, 'Printer on fire');
      assert.equal(issue.description, 'From ticket #42');
      assert.equal((await issue.state)?.name, 'Todo');
      assert.equal((await issue.assignee)?.email, 'grace@acme.test');
      assert.deepEqual(
        (await issue.labels()).nodes.map((l) => l.name),
        ['Bug'],
      );
    }
    assert.equal(fake.countCalls('issueCreate'), 1);
    fake.assertNoRejectedOperations();
  });

  it('updates state, assignee and labels, stamping completedAt and a later updatedAt', async () => {
    const issue = await (await client.createIssue({ teamId: engTeam().id, title: 'Slow search' })).issue;
    assert.ok(issue);
    const done = fake.state.stateByName(engTeam().id, 'Done');
    const feature = fake.state.labelByName('Feature', engTeam().id);
    assert.ok(done && feature);

    await client.updateIssue(issue.id, { stateId: done.id, assigneeId: null, addedLabelIds: [feature.id] });
    const after = await client.issue(issue.id);
    assert.equal((await after.state)?.type, 'completed');
    assert.ok(after.completedAt);
    assert.ok(after.updatedAt > issue.updatedAt);
    assert.deepEqual(after.labelIds, [feature.id]);
  });

  it('rejects a state from another team, naming the problem, and changes nothing', async () => {
    const issue = await (await client.createIssue({ teamId: engTeam().id, title: 'Cross-team' })).issue;
    assert.ok(issue);
    const sup = fake.state.teamByKey('SUP');
    assert.ok(sup);
    const supDone = fake.state.stateByName(sup.id, 'Done');
    await assert.rejects(client.updateIssue(issue.id, { stateId: supDone?.id }), (error: unknown) => {
      assert.ok(error instanceof InvalidInputLinearError);
      assert.match(error.message, /another team/);
      return true;
    });
    assert.equal(fake.state.issue(issue.id).stateId, fake.state.stateByName(engTeam().id, 'Todo')?.id);
  });

  it('comments on an issue and lists the comments oldest first, with their authors', async () => {
    const issue = await (await client.createIssue({ teamId: engTeam().id, title: 'Discuss' })).issue;
    assert.ok(issue);
    await client.createComment({ issueId: issue.id, body: 'first' });
    fake.simulate.createComment(issue.id, 'second, from Grace in Linear');
    const comments = await (await client.issue(issue.id)).comments();
    assert.deepEqual(
      comments.nodes.map((c) => c.body),
      ['first', 'second, from Grace in Linear'],
    );
    assert.deepEqual(await Promise.all(comments.nodes.map(async (c) => (await c.user)?.email)), [
      'ada@acme.test',
      'grace@acme.test',
    ]);
    const edited = await (await client.updateComment(comments.nodes[0]?.id ?? '', { body: 'first, edited' })).comment;
    assert.equal(edited?.body, 'first, edited');
    assert.ok(edited?.editedAt);
  });

  it('attaches a ticket URL once per issue, and finds the issue again by that URL', async () => {
    const issue = await (await client.createIssue({ teamId: engTeam().id, title: 'From a ticket' })).issue;
    assert.ok(issue);
    const url = 'https://switchboard.test/tickets/t_1';
    await client.createAttachment({ issueId: issue.id, url, title: 'Ticket #1' });
    // Linear upserts attachments by (issue, url): a retried create must not add a second one.
    await client.createAttachment({ issueId: issue.id, url, title: 'Ticket #1 (renamed)' });

    const forUrl = await client.attachmentsForURL(url);
    assert.equal(forUrl.nodes.length, 1);
    assert.equal(forUrl.nodes[0]?.title, 'Ticket #1 (renamed)');
    assert.equal((await forUrl.nodes[0]?.issue)?.identifier, issue.identifier);

    const byFilter = await client.issues({ filter: { attachments: { url: { eq: url } } } });
    assert.deepEqual(
      byFilter.nodes.map((i) => i.id),
      [issue.id],
    );
    const byOther = await client.issues({ filter: { attachments: { some: { url: { eq: `${url}-other` } } } } });
    assert.equal(byOther.nodes.length, 0);
    assert.equal((await client.attachments({ filter: { url: { eq: url } } })).nodes.length, 1);
  });

  it('filters issues by team key, number, identifier and state type', async () => {
    for (const title of ['one', 'two', 'three']) await client.createIssue({ teamId: engTeam().id, title });
    fake.simulate.updateIssue('ENG-2', { stateType: 'started' });
    const started = await client.issues({
      filter: { team: { key: { eq: 'ENG' } }, state: { type: { eq: 'started' } } },
    });
    assert.deepEqual(
      started.nodes.map((i) => i.identifier),
      ['ENG-2'],
    );
    const byNumber = await client.issues({ filter: { team: { key: { eq: 'ENG' } }, number: { eq: 3 } } });
    assert.deepEqual(
      byNumber.nodes.map((i) => i.title),
      ['three'],
    );
    const byIdentifier = await client.issues({ filter: { id: { in: ['ENG-1', 'ENG-3'] } } });
    assert.deepEqual(
      byIdentifier.nodes.map((i) => i.identifier),
      ['ENG-1', 'ENG-3'],
    );
  });

  it('pages through a connection with first/after', async () => {
    for (let i = 1; i <= 5; i++) await client.createIssue({ teamId: engTeam().id, title: `issue ${i}` });
    const page1 = await client.issues({ first: 2 });
    assert.deepEqual(
      page1.nodes.map((i) => i.title),
      ['issue 1', 'issue 2'],
    );
    assert.equal(page1.pageInfo.hasNextPage, true);
    const page2 = await client.issues({ first: 2, after: page1.pageInfo.endCursor });
    assert.deepEqual(
      page2.nodes.map((i) => i.title),
      ['issue 3', 'issue 4'],
    );
    // The SDK's fetchNext appends the following page to the same connection.
    const grown = await page2.fetchNext();
    assert.deepEqual(
      grown.nodes.map((i) => i.title),
      ['issue 3', 'issue 4', 'issue 5'],
    );
    assert.equal(grown.pageInfo.hasNextPage, false);
  });

  it('trashes a deleted issue (still readable) and answers "Entity not found" once it is gone for good', async () => {
    const issue = await (await client.createIssue({ teamId: engTeam().id, title: 'Doomed' })).issue;
    assert.ok(issue);
    await client.deleteIssue(issue.id);
    const trashed = await client.issue(issue.id);
    assert.equal(trashed.trashed, true);
    assert.ok(trashed.archivedAt);
    assert.equal((await client.issues()).nodes.length, 0, 'archived issues are left out of lists by default');
    assert.equal((await client.issues({ includeArchived: true })).nodes.length, 1);

    fake.simulate.deleteIssue(issue.id, { permanently: true });
    await assert.rejects(client.issue(issue.id), (error: unknown) => {
      assert.ok(error instanceof InvalidInputLinearError);
      assert.match(error.message, /Entity not found: Issue/);
      return true;
    });
  });

  it('rejects a query the real API would reject, and records it for the test to fail on', async () => {
    await assert.rejects(
      client.client.rawRequest('query { issue(id: "ENG-1") { id ticketUrl } }'),
      (error: unknown) => {
        assert.ok(error instanceof GraphqlLinearError);
        assert.match(error.message, /Cannot query field "ticketUrl" on type "Issue"/);
        return true;
      },
    );
    await assert.rejects(client.client.rawRequest('mutation { issueCreate(input: { title: "no team" }) { success } }'));
    assert.equal(fake.rejectedOperations.length, 2);
    assert.throws(() => fake.assertNoRejectedOperations(), /ticketUrl/);
  });

  it('fails loudly when asked for a non-null field it does not model, and records the gap', async () => {
    await (await client.createIssue({ teamId: engTeam().id, title: 'x' })).issue;
    // Nullable fields the fake does not model are simply null, as for an issue without a project or cycle.
    const ok = await client.client.rawRequest<{ issue: { project: null } }, Record<string, never>>(
      'query { issue(id: "ENG-1") { id project { id } cycle { id } } }',
    );
    assert.equal(ok.data?.issue.project, null);
    await assert.rejects(
      client.client.rawRequest('query { issue(id: "ENG-1") { id history { nodes { id } } } }'),
      /does not model Issue.history/,
    );
    // Inputs and filters it has no behaviour for fail the same way instead of being ignored.
    await assert.rejects(
      client.createIssue({ teamId: engTeam().id, title: 'in a project', projectId: 'p1' }),
      /does not model IssueCreateInput.projectId/,
    );
    await assert.rejects(
      client.issues({ filter: { project: { name: { eq: 'Roadmap' } } } }),
      /does not model filtering Issue by project/,
    );
    assert.deepEqual([...fake.gaps], ['Issue.history', 'IssueCreateInput.projectId', 'filtering Issue by project']);
    assert.throws(() => fake.assertNoRejectedOperations(), /not modelled: IssueCreateInput.projectId/);
  });

  it('enforces OAuth scopes: no writes without write, no webhooks without admin', async () => {
    const readOnly = new LinearClient({
      accessToken: fake.oauth.issueAccessToken({ scopes: ['read'] }),
      apiUrl: fake.graphqlUrl,
    });
    await assert.rejects(readOnly.createIssue({ teamId: engTeam().id, title: 'nope' }), ForbiddenLinearError);
    const creator = new LinearClient({
      accessToken: fake.oauth.issueAccessToken({ scopes: ['read', 'issues:create', 'comments:create'] }),
      apiUrl: fake.graphqlUrl,
    });
    const issue = await (await creator.createIssue({ teamId: engTeam().id, title: 'allowed' })).issue;
    assert.ok(issue);
    await creator.createComment({ issueId: issue.id, body: 'allowed too' });
    await assert.rejects(creator.updateIssue(issue.id, { title: 'not allowed' }), ForbiddenLinearError);
    await assert.rejects(
      creator.createWebhook({ url: 'http://127.0.0.1:1/hook', resourceTypes: ['Issue'] }),
      ForbiddenLinearError,
    );
    assert.equal(fake.state.issues.size, 1);
  });

  it('registers and deletes webhooks through the API with the admin scope', async () => {
    const payload = await client.createWebhook({
      url: 'http://127.0.0.1:1/linear',
      resourceTypes: ['Issue', 'Comment'],
      teamId: engTeam().id,
      secret: 'shh',
    });
    const webhook = await payload.webhook;
    assert.ok(webhook);
    assert.equal(webhook.enabled, true);
    assert.deepEqual(
      (await client.webhooks()).nodes.map((w) => w.id),
      [webhook.id],
    );
    await client.deleteWebhook(webhook.id);
    assert.equal((await client.webhooks()).nodes.length, 0);
  });
});
