import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { testDatabase } from '../../test/support/database.ts';
import { type EndpointSubscription, endpointWantsEvent, endpointWantsEventSql } from './endpoint-wants-event.ts';

const comment = (isPublic: boolean) => ({ type: 'comment.created', payload: { comment: { id: 'c', isPublic } } });
const statusChanged = { type: 'ticket.status_changed', payload: { from: 'open', to: 'pending' } };

const endpoints: Record<string, EndpointSubscription> = {
  allComments: { eventTypes: ['comment.created'] },
  publicOnly: { eventTypes: ['comment.created', 'ticket.status_changed'], excludeInternalNotes: true },
  optedBackIn: { eventTypes: ['comment.created'], excludeInternalNotes: false },
  statusOnly: { eventTypes: ['ticket.status_changed'], excludeInternalNotes: true },
  noTypes: {},
};
const events = { publicReply: comment(true), internalNote: comment(false), statusChanged };

/** Which endpoints want which events: the rule written out case by case. */
const expected: Record<string, string[]> = {
  allComments: ['publicReply', 'internalNote'],
  publicOnly: ['publicReply', 'statusChanged'],
  optedBackIn: ['publicReply', 'internalNote'],
  statusOnly: ['statusChanged'],
  noTypes: [],
};

describe('which webhook endpoints want an event', () => {
  it('subscribed types only, and no internal notes for an endpoint that excludes them', () => {
    for (const [name, config] of Object.entries(endpoints)) {
      const wanted = Object.entries(events)
        .filter(([, event]) => endpointWantsEvent(config, event))
        .map(([eventName]) => eventName);
      assert.deepEqual(wanted, expected[name], name);
    }
  });

  it('decides the same in SQL, over jsonb configs and payloads, for the set-based fan-out', async () => {
    const { db } = testDatabase();
    const rows = Object.entries(endpoints).flatMap(([endpoint, config]) =>
      Object.entries(events).map(([event, e]) => ({ endpoint, event, config, type: e.type, payload: e.payload })),
    );
    const result = await db.execute<{ endpoint: string; event: string }>(sql`
      select x.endpoint, x.event
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
             as x(endpoint text, event text, config jsonb, type text, payload jsonb)
       where ${endpointWantsEventSql(sql`x.config`, sql`x.type`, sql`x.payload`)}`);
    for (const name of Object.keys(endpoints)) {
      const wanted = result.rows.filter((r) => r.endpoint === name).map((r) => r.event);
      assert.deepEqual(wanted.sort(), [...expected[name]!].sort(), name);
    }
  });
});
