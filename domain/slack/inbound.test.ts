// The sweep of Slack requests whose hand-over to their workflow failed: which rows it hands over, and to what.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { integrationConfigs, slackInbound } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../common/config.ts';
import { createLogger } from '../../common/logger.ts';
import { testDatabase } from '../../test/support/database.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { createTicket } from '../tickets/create-ticket.ts';
import type { SlackDeps } from './deps.ts';
import { handOverWaitingInbound } from './inbound.ts';

describe('the Slack inbound sweep', () => {
  const { db } = testDatabase();

  it('hands over what is still received after 30 s: state changes for 30 minutes, additions for a day', async () => {
    const org = await makeOrganization();
    const integrationId = randomUUID();
    await db.insert(integrationConfigs).values({
      id: integrationId,
      organizationId: org.organizationId,
      integrationType: 'slack',
      name: 'Slack',
      isActive: true,
      config: {},
    });
    const ticket = await createTicket(db, org.scope, { subject: 'swept' });
    const row = async (kind: string, ageSeconds: number, status = 'received') => {
      const [inserted] = await db
        .insert(slackInbound)
        .values({
          organizationId: org.organizationId,
          integrationId,
          dedupeKey: randomUUID(),
          kind,
          ticketId: kind === 'create_from_message' ? null : ticket.id,
          payload: { kind },
          status,
          createdAt: sql`now() - make_interval(secs => ${ageSeconds})`,
        })
        .returning({ id: slackInbound.id });
      return inserted!.id;
    };
    const fresh = await row('set_status', 5);
    const click = await row('set_status', 60);
    const staleClick = await row('assign_me', 31 * 60);
    const reply = await row('thread_reply', 31 * 60);
    const oldReply = await row('thread_reply', 25 * 60 * 60);
    const applied = await row('set_status', 60, 'applied');
    const intake = await row('create_from_message', 120);

    const signalled: string[] = [];
    const started: string[] = [];
    const temporal = {
      workflow: {
        signalWithStart: async (_type: string, options: { signalArgs: [{ inboundIds: string[] }] }) => {
          signalled.push(...options.signalArgs[0].inboundIds);
        },
        start: async (_type: string, options: { args: [{ inboundId: string }] }) => {
          started.push(options.args[0].inboundId);
        },
      },
    } as unknown as Client;
    const deps = {
      db,
      keys: loadConfig().credentialKeys,
      logger: createLogger('silent'),
      temporal,
      ticketsTaskQueue: 'tickets',
    } as unknown as SlackDeps;

    const result = await handOverWaitingInbound(deps);
    assert.deepEqual(result, { handedOver: 3, failed: 0 });
    assert.deepEqual(new Set(signalled), new Set([click, reply]), 'the ticket’s rows go to its workflow');
    assert.deepEqual(started, [intake], 'a row without a ticket starts its intake');
    for (const left of [fresh, staleClick, oldReply, applied])
      assert.ok(![...signalled, ...started].includes(left), 'too young, too old for its kind, or already applied');
  });
});
