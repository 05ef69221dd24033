// How the dashboard's ticket timeline reads: comments and events in time order, each event as a sentence,
// nothing shown twice.
import assert from 'node:assert/strict';
import type { Comment, TicketEvent } from '../../packages/dashboard/src/api.ts';
import { buildTimeline, describeEvent } from '../../packages/dashboard/src/timeline.ts';

const names: Record<string, string> = { u1: 'Ada', u2: 'Grace' };
const nameOf = (id: string | null) => (id ? (names[id] ?? 'Unknown user') : 'Unassigned');

let nextId = 1;
function event(type: string, payload: unknown, at: string, actor: TicketEvent['actor'] = { type: 'user', id: 'u1' }) {
  return { id: nextId++, type, payload, actor, createdAt: at, dispatchedAt: null } satisfies TicketEvent;
}

function comment(id: string, at: string, isPublic = true): Comment {
  return {
    id,
    ticketId: 't1',
    body: `body of ${id}`,
    isPublic,
    source: 'web',
    author: { type: 'user', id: 'u1', name: 'Ada' },
    createdAt: at,
  };
}

const labelOf = (e: TicketEvent) => describeEvent(e, nameOf, new Set());

describe('dashboard timeline', () => {
  it('names status changes with both ends, in words', () => {
    assert.equal(
      labelOf(event('ticket.status_changed', { from: 'open', to: 'on_hold' }, '2026-01-01T00:00:00Z')),
      'Status changed open → on hold',
    );
  });

  it('names assignment, reassignment and unassignment with the people involved', () => {
    const at = '2026-01-01T00:00:00Z';
    assert.equal(labelOf(event('ticket.assigned', { from: null, to: 'u2' }, at)), 'Assigned to Grace');
    assert.equal(labelOf(event('ticket.assigned', { from: 'u1', to: 'u2' }, at)), 'Reassigned from Ada to Grace');
    assert.equal(labelOf(event('ticket.assigned', { from: 'u2', to: null }, at)), 'Unassigned (was Grace)');
  });

  it('describes the other fields of an update, and leaves out an update whose changes have their own event', () => {
    const at = '2026-01-01T00:00:00Z';
    const priority = event('ticket.updated', { changes: { priority: { from: 'normal', to: 'high' } } }, at);
    assert.equal(labelOf(priority), 'Priority changed normal → high');
    const tags = event('ticket.updated', { changes: { tags: { from: [], to: ['vip', 'billing'] } } }, at);
    assert.equal(labelOf(tags), 'Tags changed none → vip, billing');
    const statusOnly = event('ticket.updated', { changes: { status: { from: 'open', to: 'solved' } } }, at);
    assert.equal(labelOf(statusOnly), null);
  });

  it('names the file of each attachment event, with the size, the virus or the reason', () => {
    const at = '2026-01-01T00:00:00Z';
    const attachment = { id: 'a1', fileName: 'notes.txt', mimeType: 'text/plain', fileSize: 2_560 };
    const system = { type: 'system', id: null } as const;
    assert.equal(labelOf(event('attachment.uploaded', { attachment }, at)), 'Attached “notes.txt” (2.5 KB)');
    assert.equal(
      labelOf(event('attachment.available', { attachment }, at, system)),
      '“notes.txt” passed the virus scan',
    );
    assert.equal(
      labelOf(event('attachment.blocked', { attachment, signature: 'Eicar-Test-Signature' }, at, system)),
      '“notes.txt” blocked: malware detected (Eicar-Test-Signature)',
    );
    assert.equal(
      labelOf(event('attachment.failed', { attachment, reason: 'the stored object is missing' }, at, system)),
      '“notes.txt” could not be stored: the stored object is missing',
    );
    assert.equal(labelOf(event('attachment.deleted', { attachment }, at)), 'Deleted “notes.txt”');
    assert.equal(labelOf(event('attachment.deleted', {}, at)), 'Deleted a file');
  });

  it('shows an event type it does not know rather than hiding it', () => {
    assert.equal(labelOf(event('linear.issue_linked', {}, '2026-01-01T00:00:00Z')), 'Event linear.issue_linked');
  });

  it('merges comments and events by time, dropping the comment.created event of a listed comment', () => {
    const entries = buildTimeline(
      [comment('c2', '2026-01-01T10:05:00Z', false), comment('c1', '2026-01-01T10:01:00Z')],
      [
        event('ticket.created', {}, '2026-01-01T10:00:00Z'),
        event('comment.created', { comment: { id: 'c1' } }, '2026-01-01T10:01:00Z'),
        event('ticket.status_changed', { from: 'open', to: 'pending' }, '2026-01-01T10:03:00Z', {
          type: 'api_key',
          id: 'k1',
        }),
        event('comment.created', { comment: { id: 'c-not-listed' } }, '2026-01-01T10:06:00Z'),
      ],
      nameOf,
    );
    assert.deepEqual(
      entries.map((e) => (e.kind === 'comment' ? `comment ${e.comment.id}` : `${e.label} by ${e.actor}`)),
      [
        'Ticket created by Ada',
        'comment c1',
        'Status changed open → pending by an API key',
        'comment c2',
        'Comment added by Ada',
      ],
    );
  });
});
