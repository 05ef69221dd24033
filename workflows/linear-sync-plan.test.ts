// The sync semantics of a ticket ↔ Linear issue link, stated as the planner's rules. The workflow applies exactly
// what planSync returns, so these cases are the specification of what gets written where.
import assert from 'node:assert/strict';
import type { DispatchedTicketEvent } from '../common/ticket-events.ts';
import {
  autoCreateMatches,
  conflictWinner,
  defaultLinearToStatus,
  defaultStatusToLinear,
  type LinearSide,
  type LinearState,
  linearPriorityForTicket,
  linkHearsOf,
  planIsEmpty,
  planSync,
  type SyncedValues,
  type SyncSettings,
  settleAssignee,
  statusForLinearState,
  type TicketSide,
  ticketEventNeedsSync,
  ticketPriorityForLinear,
} from './linear-sync-plan.ts';

// Linear's default workflow, deliberately listed out of position order.
const states: LinearState[] = [
  { id: 'done', name: 'Done', type: 'completed', position: 4 },
  { id: 'backlog', name: 'Backlog', type: 'backlog', position: 0 },
  { id: 'todo', name: 'Todo', type: 'unstarted', position: 1 },
  { id: 'review', name: 'In Review', type: 'started', position: 3 },
  { id: 'progress', name: 'In Progress', type: 'started', position: 2 },
  { id: 'canceled', name: 'Canceled', type: 'canceled', position: 5 },
  { id: 'triage', name: 'Triage', type: 'triage', position: -1 },
];

const settings = (over: Partial<SyncSettings> = {}): SyncSettings => ({
  statusToLinear: {},
  linearToStatus: {},
  syncPriority: true,
  conflictPolicy: 'latest',
  states,
  ...over,
});

const T0 = '2025-01-01T10:00:00.000Z';
const T1 = '2025-01-01T10:01:00.000Z';
const T2 = '2025-01-01T10:02:00.000Z';
const NOW = '2025-01-01T10:05:00.000Z';

const ticket = (over: Partial<TicketSide> = {}): TicketSide => ({
  status: 'open',
  priority: 'normal',
  assigneeEmail: 'ada@acme.test',
  changedAt: { status: T0, priority: T0, assignee: T0 },
  ...over,
});
const linear = (over: Partial<LinearSide> = {}): LinearSide => ({
  stateId: 'todo',
  priority: 3,
  assigneeEmail: 'ada@acme.test',
  updatedAt: T0,
  ...over,
});
/** Both sides in step: open/Todo, normal/3, Ada. */
const last = (over: Partial<SyncedValues> = {}): SyncedValues => ({
  ticket: { status: 'open', priority: 'normal', assigneeEmail: 'ada@acme.test' },
  linear: { stateId: 'todo', priority: 3, assigneeEmail: 'ada@acme.test' },
  issueUpdatedAt: T0,
  at: T0,
  ...over,
});
const changedAt = (field: 'status' | 'priority' | 'assignee', at: string): TicketSide['changedAt'] => ({
  status: T0,
  priority: T0,
  assignee: T0,
  [field]: at,
});

describe('Linear sync plan', () => {
  describe('mappings', () => {
    it('writes ticket statuses to the first state of their kind by position', () => {
      assert.deepEqual(defaultStatusToLinear(states), {
        open: 'todo',
        pending: 'progress',
        on_hold: 'backlog',
        solved: 'done',
        closed: 'done',
      });
    });

    it('puts on_hold in the unstarted state when the team has no backlog, and leaves out statuses with no state', () => {
      const noBacklog = states.filter((s) => s.type !== 'backlog' && s.type !== 'completed');
      assert.deepEqual(defaultStatusToLinear(noBacklog), { open: 'todo', pending: 'progress', on_hold: 'todo' });
    });

    it('reads Linear states as ticket statuses by their type', () => {
      const byType = Object.fromEntries(states.map((s) => [s.name, defaultLinearToStatus(s)]));
      assert.deepEqual(byType, {
        Triage: 'open',
        Backlog: 'open',
        Todo: 'open',
        'In Progress': 'pending',
        'In Review': 'pending',
        Done: 'solved',
        Canceled: 'closed',
      });
    });

    it('lets the configured mapping override the defaults, both ways', () => {
      const s = settings({ statusToLinear: { pending: 'review' }, linearToStatus: { backlog: 'on_hold' } });
      const plan = planSync(
        ticket({ status: 'pending', changedAt: changedAt('status', T1) }),
        linear(),
        last(),
        s,
        NOW,
      );
      assert.equal(plan.toLinear.stateId, 'review');
      assert.equal(statusForLinearState('backlog', s), 'on_hold');
      assert.equal(statusForLinearState('unknown-state', s), null);
    });

    it('maps priorities urgent/high/normal/low to 1/2/3/4 and Linear’s "no priority" to normal', () => {
      assert.deepEqual((['urgent', 'high', 'normal', 'low'] as const).map(linearPriorityForTicket), [1, 2, 3, 4]);
      assert.deepEqual([0, 1, 2, 3, 4].map(ticketPriorityForLinear), ['normal', 'urgent', 'high', 'normal', 'low']);
    });
  });

  describe('one side changed since the last sync', () => {
    it('ticket status → Linear state', () => {
      const plan = planSync(
        ticket({ status: 'solved', changedAt: changedAt('status', T1) }),
        linear(),
        last(),
        settings(),
        NOW,
      );
      assert.deepEqual(plan.toLinear, { stateId: 'done' });
      assert.deepEqual(plan.toTicket, {});
      assert.deepEqual(plan.conflicts, []);
      assert.equal(plan.synced.ticket.status, 'solved');
      assert.equal(plan.synced.linear.stateId, 'done');
      assert.equal(plan.synced.at, NOW);
    });

    it('Linear state → ticket status', () => {
      const plan = planSync(ticket(), linear({ stateId: 'progress', updatedAt: T1 }), last(), settings(), NOW);
      assert.deepEqual(plan.toTicket, { status: 'pending' });
      assert.deepEqual(plan.toLinear, {});
      assert.equal(plan.synced.ticket.status, 'pending');
      assert.equal(plan.synced.linear.stateId, 'progress');
      assert.equal(plan.synced.issueUpdatedAt, T1);
    });

    it('ticket assignee → Linear assignee, by email, case-insensitively', () => {
      const plan = planSync(
        ticket({ assigneeEmail: 'Grace@Acme.test', changedAt: changedAt('assignee', T1) }),
        linear(),
        last(),
        settings(),
        NOW,
      );
      assert.deepEqual(plan.toLinear, { assigneeEmail: 'grace@acme.test' });
      assert.equal(plan.synced.linear.assigneeEmail, 'grace@acme.test');
    });

    it('Linear assignee → ticket assignee, unassigning too', () => {
      const plan = planSync(ticket(), linear({ assigneeEmail: null, updatedAt: T1 }), last(), settings(), NOW);
      assert.deepEqual(plan.toTicket, { assigneeEmail: null });
      assert.equal(plan.synced.ticket.assigneeEmail, null);
    });

    it('ticket priority → Linear priority, and back', () => {
      const toLinear = planSync(
        ticket({ priority: 'urgent', changedAt: changedAt('priority', T1) }),
        linear(),
        last(),
        settings(),
        NOW,
      );
      assert.deepEqual(toLinear.toLinear, { priority: 1 });
      const toTicket = planSync(ticket(), linear({ priority: 4, updatedAt: T1 }), last(), settings(), NOW);
      assert.deepEqual(toTicket.toTicket, { priority: 'low' });
    });

    it('several fields of both sides at once, when they are different fields, without a conflict', () => {
      const plan = planSync(
        ticket({ status: 'pending', changedAt: changedAt('status', T1) }),
        linear({ priority: 2, assigneeEmail: 'linus@acme.test', updatedAt: T2 }),
        last(),
        settings(),
        NOW,
      );
      assert.deepEqual(plan.toLinear, { stateId: 'progress' });
      assert.deepEqual(plan.toTicket, { priority: 'high', assigneeEmail: 'linus@acme.test' });
      assert.deepEqual(plan.conflicts, []);
    });

    it('nothing changed: nothing to write', () => {
      const plan = planSync(ticket(), linear(), last(), settings(), NOW);
      assert.ok(planIsEmpty(plan));
      assert.deepEqual(plan.synced.ticket, last().ticket);
      assert.deepEqual(plan.synced.linear, last().linear);
    });
  });

  describe('equivalence under the mapping', () => {
    it('does not rewrite Linear when its state already reads as the new ticket status (open and Backlog)', () => {
      const before = last({
        ticket: { status: 'pending', priority: 'normal', assigneeEmail: 'ada@acme.test' },
        linear: { stateId: 'progress', priority: 3, assigneeEmail: 'ada@acme.test' },
      });
      // Linear moved to Backlog (→ open) and the ticket was reopened: both now say "open".
      const plan = planSync(
        ticket({ status: 'open', changedAt: changedAt('status', T1) }),
        linear({ stateId: 'backlog', updatedAt: T2 }),
        before,
        settings(),
        NOW,
      );
      assert.ok(planIsEmpty(plan));
      assert.deepEqual(plan.conflicts, []);
      assert.equal(plan.synced.linear.stateId, 'backlog');
    });

    it('does not rewrite the ticket when Linear moves between states of one status (Todo → Backlog, Progress → Review)', () => {
      assert.ok(
        planIsEmpty(planSync(ticket(), linear({ stateId: 'backlog', updatedAt: T1 }), last(), settings(), NOW)),
      );
      const started = last({
        ticket: { status: 'pending', priority: 'normal', assigneeEmail: 'ada@acme.test' },
        linear: { stateId: 'progress', priority: 3, assigneeEmail: 'ada@acme.test' },
      });
      const plan = planSync(
        ticket({ status: 'pending' }),
        linear({ stateId: 'review', updatedAt: T1 }),
        started,
        settings(),
        NOW,
      );
      assert.ok(planIsEmpty(plan));
      assert.equal(plan.synced.linear.stateId, 'review', 'the new state is remembered as synced');
    });

    it('treats a mapping that is not one-to-one as agreement both ways (on_hold ↔ Backlog, closed ↔ Done)', () => {
      const onHold = planSync(
        ticket({ status: 'on_hold', changedAt: changedAt('status', T1) }),
        linear({ stateId: 'backlog' }),
        last({ linear: { ...last().linear, stateId: 'backlog' } }),
        settings(),
        NOW,
      );
      assert.ok(planIsEmpty(onHold));
      const solved = last({
        ticket: { status: 'solved', priority: 'normal', assigneeEmail: 'ada@acme.test' },
        linear: { stateId: 'done', priority: 3, assigneeEmail: 'ada@acme.test' },
      });
      assert.ok(
        planIsEmpty(
          planSync(
            ticket({ status: 'closed', changedAt: changedAt('status', T1) }),
            linear({ stateId: 'done' }),
            solved,
            settings(),
            NOW,
          ),
        ),
      );
    });

    it('treats Linear priority 0 as the ticket’s normal', () => {
      const plan = planSync(ticket(), linear({ priority: 0, updatedAt: T1 }), last(), settings(), NOW);
      assert.ok(planIsEmpty(plan));
    });
  });

  describe('echoes', () => {
    it('a webhook reporting the value we just wrote to Linear changes nothing', () => {
      const wrote = planSync(
        ticket({ status: 'solved', changedAt: changedAt('status', T1) }),
        linear(),
        last(),
        settings(),
        NOW,
      );
      assert.deepEqual(wrote.toLinear, { stateId: 'done' });
      // Linear now holds Done, with a later updatedAt: what its webhook makes us look at.
      const echo = planSync(
        ticket({ status: 'solved', changedAt: changedAt('status', T1) }),
        linear({ stateId: 'done', updatedAt: T2 }),
        wrote.synced,
        settings(),
        NOW,
      );
      assert.ok(planIsEmpty(echo));
      assert.deepEqual(echo.conflicts, []);
    });

    it('a ticket event for the value we just wrote to the ticket changes nothing', () => {
      const wrote = planSync(
        ticket(),
        linear({ assigneeEmail: 'grace@acme.test', priority: 1, updatedAt: T1 }),
        last(),
        settings(),
        NOW,
      );
      assert.deepEqual(wrote.toTicket, { assigneeEmail: 'grace@acme.test', priority: 'urgent' });
      const echo = planSync(
        ticket({
          assigneeEmail: 'grace@acme.test',
          priority: 'urgent',
          changedAt: { status: T0, priority: T2, assignee: T2 },
        }),
        linear({ assigneeEmail: 'grace@acme.test', priority: 1, updatedAt: T1 }),
        wrote.synced,
        settings(),
        NOW,
      );
      assert.ok(planIsEmpty(echo));
    });

    it('an assignee the other side does not know settles as unassigned there, and is not copied back', () => {
      const wrote = planSync(
        ticket({ assigneeEmail: 'agent@desk.test', changedAt: changedAt('assignee', T1) }),
        linear(),
        last(),
        settings(),
        NOW,
      );
      assert.deepEqual(wrote.toLinear, { assigneeEmail: 'agent@desk.test' });
      // Linear has no such user: the activity left the issue unassigned.
      const synced = settleAssignee(wrote.synced, wrote, {
        ticketAssigneeEmail: 'agent@desk.test',
        linearAssigneeEmail: null,
      });
      assert.equal(synced.linear.assigneeEmail, null);
      const next = planSync(
        ticket({ assigneeEmail: 'agent@desk.test', changedAt: changedAt('assignee', T1) }),
        linear({ assigneeEmail: null, updatedAt: T2 }),
        synced,
        settings(),
        NOW,
      );
      assert.ok(planIsEmpty(next), 'the ticket keeps its assignee');
    });
  });

  describe('conflicts: both sides changed the same field since the last sync', () => {
    const bothChanged = (policy: SyncSettings['conflictPolicy'], ticketAt: string, linearAt: string) =>
      planSync(
        ticket({ status: 'solved', changedAt: changedAt('status', ticketAt) }),
        linear({ stateId: 'progress', updatedAt: linearAt }),
        last(),
        settings({ conflictPolicy: policy }),
        NOW,
      );

    it('latest: the later change wins and the conflict is recorded', () => {
      const ticketLater = bothChanged('latest', T2, T1);
      assert.deepEqual(ticketLater.toLinear, { stateId: 'done' });
      assert.deepEqual(ticketLater.toTicket, {});
      assert.deepEqual(ticketLater.conflicts, [
        {
          field: 'status',
          ticketValue: 'solved',
          linearValue: 'progress',
          winner: 'ticket',
          policy: 'latest',
          ticketChangedAt: T2,
          linearChangedAt: T1,
        },
      ]);
      const linearLater = bothChanged('latest', T1, T2);
      assert.deepEqual(linearLater.toTicket, { status: 'pending' });
      assert.deepEqual(linearLater.toLinear, {});
      assert.equal(linearLater.conflicts[0]?.winner, 'linear');
      assert.equal(linearLater.synced.ticket.status, 'pending');
      assert.equal(linearLater.synced.linear.stateId, 'progress');
    });

    it('latest: a tie goes to the ticket, a ticket change of unknown time loses', () => {
      assert.equal(conflictWinner('latest', T1, T1), 'ticket');
      assert.equal(conflictWinner('latest', null, T1), 'linear');
    });

    it('ticket or linear: that side always wins, whatever the times', () => {
      assert.deepEqual(bothChanged('ticket', T1, T2).toLinear, { stateId: 'done' });
      assert.equal(bothChanged('ticket', T1, T2).conflicts[0]?.winner, 'ticket');
      assert.deepEqual(bothChanged('linear', T2, T1).toTicket, { status: 'pending' });
      assert.equal(bothChanged('linear', T2, T1).conflicts[0]?.winner, 'linear');
    });

    it('both changed to equivalent values: no conflict, nothing written', () => {
      const plan = planSync(
        ticket({ assigneeEmail: 'grace@acme.test', changedAt: changedAt('assignee', T1) }),
        linear({ assigneeEmail: 'GRACE@acme.test', updatedAt: T2 }),
        last(),
        settings(),
        NOW,
      );
      assert.ok(planIsEmpty(plan));
      assert.deepEqual(plan.conflicts, []);
    });
  });

  describe('priority sync off', () => {
    it('neither writes nor reports priorities, and keeps each side’s own in the synced values', () => {
      const plan = planSync(
        ticket({ priority: 'urgent', changedAt: changedAt('priority', T1) }),
        linear({ priority: 4, updatedAt: T2 }),
        last(),
        settings({ syncPriority: false }),
        NOW,
      );
      assert.ok(planIsEmpty(plan));
      assert.deepEqual(plan.conflicts, []);
      assert.equal(plan.synced.ticket.priority, 'urgent');
      assert.equal(plan.synced.linear.priority, 4);
    });
  });

  describe('first sync (no synced values yet)', () => {
    it('writes nothing when both sides already agree under the mapping, and remembers them', () => {
      const plan = planSync(ticket(), linear({ stateId: 'backlog', priority: 0 }), null, settings(), NOW);
      assert.ok(planIsEmpty(plan));
      assert.deepEqual(plan.conflicts, []);
      assert.deepEqual(plan.synced.linear, { stateId: 'backlog', priority: 0, assigneeEmail: 'ada@acme.test' });
    });

    it('an existing issue that was linked keeps its values: the ticket takes them', () => {
      const plan = planSync(
        ticket({ status: 'open', priority: 'high' }),
        linear({ stateId: 'progress', priority: 1, updatedAt: T2 }),
        null,
        settings({ firstSyncWinner: 'linear' }),
        NOW,
      );
      assert.deepEqual(plan.toLinear, {});
      assert.deepEqual(plan.toTicket, { status: 'pending', priority: 'urgent' });
      assert.deepEqual(plan.conflicts, []);
    });

    it('otherwise (an issue created from the ticket) the ticket wins, without reporting a conflict', () => {
      const plan = planSync(
        ticket({ status: 'pending', priority: 'high', assigneeEmail: null }),
        linear({ updatedAt: T2 }),
        null,
        settings(),
        NOW,
      );
      assert.deepEqual(plan.toLinear, { stateId: 'progress', priority: 2, assigneeEmail: null });
      assert.deepEqual(plan.toTicket, {});
      assert.deepEqual(plan.conflicts, []);
    });
  });

  it('leaves a status with no Linear state alone instead of writing nothing useful', () => {
    const noCompleted = states.filter((s) => s.type !== 'completed');
    const plan = planSync(
      ticket({ status: 'solved', changedAt: changedAt('status', T1) }),
      linear(),
      last(),
      settings({ states: noCompleted }),
      NOW,
    );
    assert.ok(planIsEmpty(plan));
    assert.equal(plan.synced.ticket.status, 'solved');
    // Nor is the difference copied back on the next sync: neither side changed since.
    assert.ok(
      planIsEmpty(
        planSync(ticket({ status: 'solved' }), linear(), plan.synced, settings({ states: noCompleted }), NOW),
      ),
    );
  });
});

describe('Linear auto-create rules', () => {
  const install = (over: Partial<Parameters<typeof autoCreateMatches>[0]> = {}) => ({
    autoCreateAll: false,
    rules: [],
    linked: false,
    ...over,
  });
  const t = (tags: string[], priority: 'low' | 'normal' | 'high' | 'urgent' = 'normal') => ({ tags, priority });

  it('creates for every new ticket when autoCreateAll is on, only on ticket.created', () => {
    assert.equal(autoCreateMatches(install({ autoCreateAll: true }), 'ticket.created', t([])), true);
    assert.equal(autoCreateMatches(install({ autoCreateAll: true }), 'ticket.updated', t([])), false);
  });

  it('matches a rule when the ticket has any of its tags (case-insensitive)', () => {
    const i = install({ rules: [{ tags: ['bug', 'crash'] }] });
    assert.equal(autoCreateMatches(i, 'ticket.updated', t(['Crash'])), true);
    assert.equal(autoCreateMatches(i, 'ticket.updated', t(['question'])), false);
  });

  it('needs every condition of one rule, and any rule', () => {
    const i = install({ rules: [{ tags: ['bug'], priorities: ['urgent'] }, { priorities: ['high'] }] });
    assert.equal(autoCreateMatches(i, 'ticket.created', t(['bug'], 'urgent')), true);
    assert.equal(autoCreateMatches(i, 'ticket.created', t(['bug'], 'normal')), false);
    assert.equal(autoCreateMatches(i, 'ticket.status_changed', t([], 'high')), true);
  });

  it('never for a ticket already linked to the installation, nor without a ticket snapshot', () => {
    assert.equal(autoCreateMatches(install({ autoCreateAll: true, linked: true }), 'ticket.created', t([])), false);
    assert.equal(autoCreateMatches(install({ rules: [{ priorities: ['low'] }] }), 'comment.created', null), false);
  });
});

describe('Linear: which ticket events need a sync step', () => {
  const synced = {
    ticket: { status: 'pending' as const, priority: 'high' as const, assigneeEmail: null },
    linear: { stateId: 'progress', priority: 2, assigneeEmail: null },
    issueUpdatedAt: T1,
    at: T1,
  };
  const updated = (ticket: { status: string; priority: string }, ...fields: string[]) => ({
    id: 1,
    organizationId: 'o',
    ticketId: 't',
    type: 'ticket.updated' as const,
    payload: { ticket, changes: Object.fromEntries(fields.map((f) => [f, { from: null, to: null }])) },
    actor: { type: 'integration' as const, id: 'i' },
    createdAt: T1,
  });

  it('the echo of our own write (the values the last step left) needs none', () => {
    assert.equal(ticketEventNeedsSync(updated({ status: 'pending', priority: 'high' }, 'status'), synced), false);
  });
  it('a status or priority the link has not synced yet does', () => {
    assert.equal(ticketEventNeedsSync(updated({ status: 'solved', priority: 'high' }, 'status'), synced), true);
    assert.equal(ticketEventNeedsSync(updated({ status: 'pending', priority: 'low' }, 'priority'), synced), true);
    assert.equal(ticketEventNeedsSync(updated({ status: 'pending', priority: 'high' }, 'status'), null), true);
  });
  it('an assignee change always does (the event names a member, the sync compares emails)', () => {
    assert.equal(ticketEventNeedsSync(updated({ status: 'pending', priority: 'high' }, 'assigneeId'), synced), true);
  });
  it('fields the link does not sync, and the events that repeat ticket.updated, need none', () => {
    assert.equal(
      ticketEventNeedsSync(updated({ status: 'solved', priority: 'low' }, 'subject', 'tags'), synced),
      false,
    );
    const statusChanged = {
      ...updated({ status: 'solved', priority: 'high' }),
      type: 'ticket.status_changed' as const,
    };
    assert.equal(ticketEventNeedsSync(statusChanged, synced), false);
  });
  it('an event of an unexpected shape takes a step rather than being guessed at', () => {
    assert.equal(ticketEventNeedsSync({ ...updated({ status: 'x', priority: 'y' }), payload: {} }, synced), true);
  });
});

describe('Linear: which links the routing signals with a ticket event', () => {
  const only = { integrationId: 'acme', onlyLinkOfItsInstallation: true };
  const event = (type: DispatchedTicketEvent['type'], payload: unknown, actor: DispatchedTicketEvent['actor']) => ({
    id: 1,
    organizationId: 'o',
    ticketId: 't',
    type,
    payload,
    actor,
    createdAt: T1,
  });
  const agent = { type: 'user' as const, id: 'u1' };
  const statusChange = {
    ticket: { status: 'solved', priority: 'high' },
    changes: { status: { from: 'open', to: 'solved' } },
  };

  it('a change to a synced field, by anyone but the link', () => {
    assert.equal(linkHearsOf(event('ticket.updated', statusChange, agent), only), true);
    assert.equal(linkHearsOf(event('ticket.updated', statusChange, { type: 'integration', id: 'other' }), only), true);
  });
  it("not the echo of the link's own write, unless another link of its installation may have made it", () => {
    const own = event('ticket.updated', statusChange, { type: 'integration', id: 'acme' });
    assert.equal(linkHearsOf(own, only), false);
    assert.equal(linkHearsOf(own, { ...only, onlyLinkOfItsInstallation: false }), true);
  });
  it('not the events the workflow drops unread: other fields, and those repeating ticket.updated', () => {
    const tags = { ticket: { status: 'open', priority: 'high' }, changes: { tags: { from: [], to: ['x'] } } };
    assert.equal(linkHearsOf(event('ticket.updated', tags, agent), only), false);
    assert.equal(linkHearsOf(event('ticket.status_changed', statusChange, agent), only), false);
    assert.equal(linkHearsOf(event('ticket.created', statusChange, agent), only), false);
  });
  it('a new ticket comment, but not one imported from Linear', () => {
    const comment = (source: string) => ({ comment: { id: 'c', source } });
    assert.equal(linkHearsOf(event('comment.created', comment('web'), agent), only), true);
    assert.equal(linkHearsOf(event('comment.created', comment('email'), agent), only), true);
    assert.equal(
      linkHearsOf(event('comment.created', comment('linear'), { type: 'integration', id: 'acme' }), only),
      false,
    );
  });
});
