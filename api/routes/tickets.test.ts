import assert from 'node:assert/strict';
import { writeCounts } from '../../domain/test-fixtures.ts';
import {
  type ApiResponse,
  addTestMember,
  createTestOrganization,
  startTestApi,
  type TestApi,
  type TestUser,
} from '../../test/support/api.ts';

/** The error names the field by its place in the request ("body.subject", "query.cursor"), in details and message. */
function assertNamesField(response: ApiResponse, status: number, path: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  const { error } = response.body;
  assert.ok(
    error.details?.some((d: { path: string }) => d.path === path),
    `expected details naming ${path}: ${JSON.stringify(error)}`,
  );
  assert.ok(error.message.includes(path.split('.').at(-1)!), error.message);
}

/** Unknown fields are named in the message (zod reports them on the object that holds them). */
function assertNamesUnknownField(response: ApiResponse, field: string) {
  assert.equal(response.status, 422, JSON.stringify(response.body));
  assert.ok(
    response.body.error.details.some((d: { path: string }) => d.path === `body.${field}`),
    JSON.stringify(response.body.error.details),
  );
}

describe('tickets API', () => {
  let api: TestApi;
  let agent: TestUser;

  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());
  beforeEach(async () => {
    agent = await createTestOrganization({ role: 'agent' });
  });

  const create = (user: TestUser, body: Record<string, unknown>) => user.fetch('POST', '/api/tickets', body);

  it('creates a ticket (201) and reads it back', async () => {
    const created = await create(agent, {
      subject: 'Cannot log in',
      description: 'Since this morning',
      priority: 'high',
      requesterEmail: 'ada@example.com',
      requesterName: 'Ada',
      assigneeId: agent.userId,
      tags: ['login'],
      firstResponseDueAt: '2030-01-01T09:00:00Z',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.number, 1);
    assert.equal(created.body.version, 1);
    assert.deepEqual(created.body.requester, {
      id: created.body.requester.id,
      email: 'ada@example.com',
      name: 'Ada',
    });
    const got = await agent.fetch('GET', `/api/tickets/${created.body.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, created.body);
  });

  it('marks tickets created with an API key as channel api', async () => {
    const created = await agent.fetch('POST', '/api/tickets', { subject: 'from a script' }, { as: 'apiKey' });
    assert.equal(created.status, 201);
    assert.equal(created.body.channel, 'api');
  });

  it('lists newest first with each filter, and pages through everything with the cursor', async () => {
    const colleague = await addTestMember(agent.organizationId, { role: 'agent' });
    const special = await create(agent, {
      subject: 'Refund 50% please',
      status: 'pending',
      priority: 'urgent',
      assigneeId: colleague.userId,
      requesterEmail: 'bo@example.com',
      tags: ['billing'],
    });
    for (let i = 0; i < 4; i++) await create(agent, { subject: `plain ${i}`, description: 'nothing to see' });

    const subjects = async (query: string) => {
      const response = await agent.fetch('GET', `/api/tickets?${query}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body.data.map((t: { subject: string }) => t.subject);
    };
    assert.deepEqual(await subjects(''), ['plain 3', 'plain 2', 'plain 1', 'plain 0', 'Refund 50% please']);
    for (const filter of [
      'status=pending',
      'priority=urgent',
      `assigneeId=${colleague.userId}`,
      `requesterId=${special.body.requester.id}`,
      'tag=billing',
      'q=REFUND',
      `q=${encodeURIComponent('50%')}`,
    ])
      assert.deepEqual(await subjects(filter), ['Refund 50% please'], filter);
    assert.deepEqual(await subjects(`q=${encodeURIComponent('5_%')}`), []);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ApiResponse = await agent.fetch(
        'GET',
        `/api/tickets?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(page.status, 200);
      seen.push(...page.body.data.map((t: { subject: string }) => t.subject));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['plain 3', 'plain 2', 'plain 1', 'plain 0', 'Refund 50% please']);
  });

  it('updates with the current version, and answers a stale one with 409 and no write', async () => {
    const ticket = (await create(agent, { subject: 'Printer' })).body;
    const updated = await agent.fetch('PATCH', `/api/tickets/${ticket.id}`, { version: 1, status: 'pending' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.version, 2);
    assert.equal(updated.body.status, 'pending');

    const before = await writeCounts();
    const stale = await agent.fetch('PATCH', `/api/tickets/${ticket.id}`, { version: 1, priority: 'low' });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, 'conflict');
    assert.match(stale.body.error.message, /version 2/);
    assert.deepEqual(
      stale.body.error.details.map((d: { path: string }) => d.path),
      ['body.version'],
    );
    assert.deepEqual(await writeCounts(), before);
  });

  it('lets exactly one of two concurrent updates of the same version through', async () => {
    const ticket = (await create(agent, { subject: 'Race' })).body;
    const before = await writeCounts();
    const [a, b] = await Promise.all([
      agent.fetch('PATCH', `/api/tickets/${ticket.id}`, { version: 1, priority: 'low' }),
      agent.fetch('PATCH', `/api/tickets/${ticket.id}`, { version: 1, priority: 'urgent' }),
    ]);
    assert.deepEqual([a!.status, b!.status].sort(), [200, 409]);
    const after = await writeCounts();
    assert.equal(after.ticket_events! - before.ticket_events!, 1);
    assert.equal(after.audit_log! - before.audit_log!, 1);
  });

  it('adds public and internal comments, listed oldest first', async () => {
    const ticket = (await create(agent, { subject: 'Comments' })).body;
    const first = await agent.fetch('POST', `/api/tickets/${ticket.id}/comments`, { body: 'Looking into it' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.isPublic, true);
    assert.deepEqual(first.body.author, { type: 'user', id: agent.userId, name: first.body.author.name });
    const note = await agent.fetch('POST', `/api/tickets/${ticket.id}/comments`, { body: 'note', isPublic: false });
    assert.equal(note.body.isPublic, false);
    const list = await agent.fetch('GET', `/api/tickets/${ticket.id}/comments`);
    assert.deepEqual(
      list.body.data.map((c: { body: string }) => c.body),
      ['Looking into it', 'note'],
    );
  });

  it('shows the timeline of every change', async () => {
    const colleague = await addTestMember(agent.organizationId, { role: 'agent' });
    const ticket = (await create(agent, { subject: 'Timeline' })).body;
    await agent.fetch('PATCH', `/api/tickets/${ticket.id}`, {
      version: 1,
      status: 'pending',
      assigneeId: colleague.userId,
    });
    await agent.fetch('PATCH', `/api/tickets/${ticket.id}`, { version: 2 });
    await agent.fetch('POST', `/api/tickets/${ticket.id}/comments`, { body: 'hi' });
    const events = await agent.fetch('GET', `/api/tickets/${ticket.id}/events`);
    assert.equal(events.status, 200);
    assert.deepEqual(
      events.body.data.map((e: { type: string }) => e.type),
      ['ticket.created', 'ticket.updated', 'ticket.status_changed', 'ticket.assigned', 'comment.created'],
    );
    assert.deepEqual(events.body.data[1].payload.changes.status, { from: 'open', to: 'pending' });
    assert.deepEqual(events.body.data[0].actor, { type: 'user', id: agent.userId });
  });

  it('pages comments and events with a cursor instead of returning every row', async () => {
    const ticket = (await create(agent, { subject: 'Long thread' })).body;
    for (let i = 1; i <= 5; i++) await agent.fetch('POST', `/api/tickets/${ticket.id}/comments`, { body: `c${i}` });
    for (const [kind, expected] of [
      ['comments', 5],
      ['events', 6],
    ] as const) {
      const seen: unknown[] = [];
      let path = `/api/tickets/${ticket.id}/${kind}?limit=2&order=desc`;
      for (;;) {
        const page = await agent.fetch('GET', path);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok(page.body.data.length <= 2, kind);
        seen.push(...page.body.data.map((row: { id: unknown }) => row.id));
        if (!page.body.nextCursor) break;
        path = `/api/tickets/${ticket.id}/${kind}?limit=2&order=desc&cursor=${encodeURIComponent(page.body.nextCursor)}`;
      }
      assert.equal(new Set(seen).size, expected, kind);
      const oldestFirst = await agent.fetch('GET', `/api/tickets/${ticket.id}/${kind}`);
      assert.deepEqual(
        oldestFirst.body.data.map((row: { id: unknown }) => row.id),
        [...seen].reverse(),
        kind,
      );
      assert.equal(oldestFirst.body.nextCursor, null);
      assertNamesField(await agent.fetch('GET', `/api/tickets/${ticket.id}/${kind}?cursor=nope`), 400, 'query.cursor');
      assertNamesField(await agent.fetch('GET', `/api/tickets/${ticket.id}/${kind}?limit=500`), 422, 'query.limit');
    }
  });

  it('lets a viewer read but not write (403), writing nothing', async () => {
    const ticket = (await create(agent, { subject: 'Read only' })).body;
    const viewer = await addTestMember(agent.organizationId, { role: 'viewer' });
    assert.equal((await viewer.fetch('GET', `/api/tickets/${ticket.id}`)).status, 200);
    assert.equal((await viewer.fetch('GET', '/api/tickets')).status, 200);
    const before = await writeCounts();
    for (const [method, path, body] of [
      ['POST', '/api/tickets', { subject: 'x' }],
      ['PATCH', `/api/tickets/${ticket.id}`, { version: 1, status: 'solved' }],
      ['POST', `/api/tickets/${ticket.id}/comments`, { body: 'x' }],
    ] as const) {
      const response = await viewer.fetch(method, path, body);
      assert.equal(response.status, 403, `${method} ${path}`);
      assert.equal(response.body.error.code, 'forbidden');
    }
    assert.deepEqual(await writeCounts(), before);
  });

  it("answers 404 for another organisation's ticket on every route, writing nothing", async () => {
    const stranger = await createTestOrganization({ role: 'admin' });
    const theirs = (await create(stranger, { subject: 'Not yours' })).body;
    const before = await writeCounts();
    for (const [method, path, body] of [
      ['GET', `/api/tickets/${theirs.id}`, undefined],
      ['PATCH', `/api/tickets/${theirs.id}`, { version: 1, subject: 'mine' }],
      ['GET', `/api/tickets/${theirs.id}/comments`, undefined],
      ['POST', `/api/tickets/${theirs.id}/comments`, { body: 'hello' }],
      ['GET', `/api/tickets/${theirs.id}/events`, undefined],
    ] as const) {
      const response = await agent.fetch(method, path, body);
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.ok(!JSON.stringify(response.body).includes('Not yours'));
    }
    assert.deepEqual((await agent.fetch('GET', '/api/tickets')).body.data, []);
    assert.deepEqual(await writeCounts(), before);
  });

  describe('bad input: a 4xx naming the problem, and nothing written', () => {
    let ticketId: string;
    let before: Record<string, number>;
    beforeEach(async () => {
      ticketId = (await create(agent, { subject: 'Target' })).body.id;
      before = await writeCounts();
    });
    afterEach(async () => {
      assert.deepEqual(await writeCounts(), before);
    });

    it('malformed JSON is a 400', async () => {
      const response = await agent.fetch('POST', '/api/tickets', undefined, { raw: '{"subject": "x",' });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'malformed_json');
    });

    it('a body that is not JSON is a 415', async () => {
      const response = await agent.fetch('POST', '/api/tickets', undefined, {
        raw: 'subject=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(response.status, 415);
    });

    it('a too-long or missing subject is a 422 naming subject', async () => {
      assertNamesField(await create(agent, { subject: 'x'.repeat(501) }), 422, 'body.subject');
      assertNamesField(await create(agent, { description: 'no subject' }), 422, 'body.subject');
    });

    it('wrong types are a 422 naming the field', async () => {
      assertNamesField(await create(agent, { subject: 42 }), 422, 'body.subject');
      assertNamesField(await create(agent, { subject: 'x', tags: 'billing' }), 422, 'body.tags');
      assertNamesField(
        await agent.fetch('PATCH', `/api/tickets/${ticketId}`, { version: '1', status: 'open' }),
        422,
        'body.version',
      );
      assertNamesField(await agent.fetch('POST', `/api/tickets/${ticketId}/comments`, { body: '' }), 422, 'body.body');
    });

    it('an unknown field is a 422 naming it', async () => {
      assertNamesUnknownField(await create(agent, { subject: 'x', severity: 'high' }), 'severity');
      assertNamesUnknownField(
        await agent.fetch('PATCH', `/api/tickets/${ticketId}`, { version: 1, description: 'not editable' }),
        'description',
      );
    });

    it('a value outside an enum is a 422 naming the field', async () => {
      assertNamesField(await create(agent, { subject: 'x', priority: 'asap' }), 422, 'body.priority');
      assertNamesField(await agent.fetch('GET', '/api/tickets?status=done'), 422, 'query.status');
      assertNamesField(await agent.fetch('GET', '/api/tickets?limit=1000'), 422, 'query.limit');
    });

    it('an assignee outside the organisation is a 422 naming assigneeId', async () => {
      const stranger = await createTestOrganization({ role: 'agent' });
      before = await writeCounts();
      assertNamesField(await create(agent, { subject: 'x', assigneeId: stranger.userId }), 422, 'body.assigneeId');
      assertNamesField(
        await agent.fetch('PATCH', `/api/tickets/${ticketId}`, { version: 1, assigneeId: stranger.userId }),
        422,
        'body.assigneeId',
      );
    });

    it('a cursor the API did not issue is a 400 naming cursor', async () => {
      assertNamesField(await agent.fetch('GET', '/api/tickets?cursor=not-a-cursor'), 400, 'query.cursor');
    });

    it('a ticket id that is not a uuid is a 422 naming id', async () => {
      assertNamesField(await agent.fetch('GET', '/api/tickets/42'), 422, 'params.id');
    });
  });
});
