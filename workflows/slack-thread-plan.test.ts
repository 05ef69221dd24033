import assert from 'node:assert/strict';
import {
  type ChannelRule,
  mentionedIn,
  type PlanInput,
  planSlackOps,
  ruleMatches,
  type TicketFacts,
} from './slack-thread-plan.ts';

const ticket: TicketFacts = {
  priority: 'normal',
  status: 'open',
  tags: ['billing'],
  assigneeId: null,
  requesterEmail: 'carol@customer.test',
  channel: 'email',
};
const support: ChannelRule = { id: 'support', channelId: 'C0SUPPORT1', kinds: ['new_ticket', 'status_change'] };
const urgent: ChannelRule = { id: 'urgent', channelId: 'C0URGENT01', kinds: ['high_priority', 'sla'] };

function plan(overrides: Partial<PlanInput>) {
  return planSlackOps({
    ticketId: 't1',
    ticket,
    rules: [support, urgent],
    parents: [],
    events: [],
    dmAssignments: [],
    ...overrides,
  });
}

describe('Slack thread planner', () => {
  it('posts a new ticket once to each channel whose rule wants new tickets', () => {
    assert.deepEqual(plan({ events: [{ id: 1, type: 'ticket.created' }] }), [
      { op: 'parent', channelId: 'C0SUPPORT1', key: 'parent/t1/C0SUPPORT1' },
    ]);
  });

  it('posts an urgent new ticket to the high-priority channel as well', () => {
    const ops = plan({ ticket: { ...ticket, priority: 'urgent' }, events: [{ id: 1, type: 'ticket.created' }] });
    assert.deepEqual(
      ops.map((o) => o.op === 'parent' && o.channelId),
      ['C0SUPPORT1', 'C0URGENT01'],
    );
  });

  it('puts a status change in the thread and edits the parent, never a second channel message', () => {
    const ops = plan({ parents: ['C0SUPPORT1'], events: [{ id: 7, type: 'ticket.status_changed' }] });
    assert.deepEqual(ops, [
      { op: 'reply', channelId: 'C0SUPPORT1', eventId: 7, broadcast: false, key: 'event/7/C0SUPPORT1' },
      { op: 'update', channelId: 'C0SUPPORT1', key: 'parent/t1/C0SUPPORT1' },
    ]);
  });

  it('raises an alert (broadcast into the channel) when the priority becomes high, posting the parent first where there is none', () => {
    const raised = { ...ticket, priority: 'high' as const };
    const event = {
      id: 9,
      type: 'ticket.updated' as const,
      priorityChange: { from: 'normal' as const, to: 'high' as const },
    };
    assert.deepEqual(plan({ ticket: raised, parents: ['C0SUPPORT1'], events: [event] }), [
      { op: 'parent', channelId: 'C0URGENT01', key: 'parent/t1/C0URGENT01' },
      { op: 'update', channelId: 'C0SUPPORT1', key: 'parent/t1/C0SUPPORT1' },
    ]);
    assert.deepEqual(plan({ ticket: raised, parents: ['C0SUPPORT1', 'C0URGENT01'], events: [event] })[0], {
      op: 'reply',
      channelId: 'C0URGENT01',
      eventId: 9,
      broadcast: true,
      key: 'event/9/C0URGENT01',
    });
  });

  it('mirrors comments into every thread, except comments that came from Slack', () => {
    const parents = ['C0SUPPORT1', 'D0DM000001'];
    assert.equal(plan({ parents, events: [{ id: 3, type: 'comment.created', commentSource: 'web' }] }).length, 2);
    assert.deepEqual(plan({ parents, events: [{ id: 4, type: 'comment.created', commentSource: 'slack' }] }), []);
  });

  it('sends an assignment by DM only to an agent who asked for it', () => {
    const event = { id: 5, type: 'ticket.assigned' as const, assigneeId: 'u-ada' };
    assert.deepEqual(plan({ events: [event] }), []);
    assert.deepEqual(plan({ events: [event], dmAssignments: ['u-ada'] }), [
      { op: 'dm', userId: 'u-ada', eventId: 5, reason: 'assigned', key: 'dm/5/u-ada' },
    ]);
  });

  it('does not reply in a channel where the parent is only being posted in this batch', () => {
    const ops = plan({
      events: [
        { id: 1, type: 'ticket.created' },
        { id: 2, type: 'ticket.status_changed' },
      ],
    });
    assert.deepEqual(
      ops.map((o) => o.op),
      ['parent'],
    );
  });

  describe('rule conditions', () => {
    it('all listed conditions must hold; tags and domains match any of theirs', () => {
      assert.equal(ruleMatches({ ...support, tags: ['vip', 'billing'] }, ticket), true);
      assert.equal(ruleMatches({ ...support, tags: ['vip'] }, ticket), false);
      assert.equal(ruleMatches({ ...support, requesterDomains: ['customer.test'] }, ticket), true);
      assert.equal(ruleMatches({ ...support, requesterDomains: ['other.test'] }, ticket), false);
      assert.equal(ruleMatches({ ...support, priorities: ['urgent'], tags: ['billing'] }, ticket), false);
      assert.equal(ruleMatches({ ...support, assignees: ['unassigned'] }, ticket), true);
      assert.equal(ruleMatches({ ...support, assignees: ['u-ada'] }, ticket), false);
      assert.equal(ruleMatches({ ...support, statuses: ['open'], ticketChannels: ['email'] }, ticket), true);
    });
  });

  describe('mentions', () => {
    const ada = { userId: 'u-ada', email: 'ada@acme.test', name: 'Ada Lovelace' };
    const al = { userId: 'u-al', email: 'al@acme.test', name: 'Al Capone' };

    it('finds @first-name as a whole word and @email, never the author, never a partial name', () => {
      assert.deepEqual(mentionedIn('@Ada can you look?', [ada, al], null), ['u-ada']);
      assert.deepEqual(mentionedIn('cc @ada@acme.test', [ada, al], null), ['u-ada']);
      assert.deepEqual(mentionedIn('@adam is not ada; mail al@acme.test', [ada, al], null), []);
      assert.deepEqual(mentionedIn('@ada and @al, please', [ada, al], 'u-ada'), ['u-al']);
    });

    it('sends each mentioned agent a DM, even for a comment made in Slack', () => {
      const event = { id: 8, type: 'comment.created' as const, commentSource: 'slack', mentions: ['u-al'] };
      assert.deepEqual(plan({ parents: ['C0SUPPORT1'], events: [event] }), [
        { op: 'dm', userId: 'u-al', eventId: 8, reason: 'mentioned', key: 'dm/8/u-al' },
      ]);
    });
  });
});
