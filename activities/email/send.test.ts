// The SMTP send activity against the database, for the failures that never reach a mail server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { integrationConfigs, ticketEmails } from '@switchboard/database';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../../common/config.ts';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { createTicket } from '../../domain/tickets/create-ticket.ts';
import { testDatabase } from '../../test/support/database.ts';
import { createSendActivities, type SendDeps, type SendResult } from './send.ts';

describe('email send activity', () => {
  const { db } = testDatabase();
  const keys = loadConfig().credentialKeys;
  const settings = {
    allowCidrs: [],
    allowInsecure: false,
    dnsServers: [],
    maxMessageBytes: 1024 * 1024,
    idleSeconds: 5,
    fetchBatch: 10,
    timeoutMs: 2_000,
  };

  it('fails a reply for good, visibly on the ticket, when the mailbox’s SMTP settings are refused by the deployment', async () => {
    const org = await makeOrganization();
    const integrationId = randomUUID();
    await db.insert(integrationConfigs).values({
      id: integrationId,
      organizationId: org.organizationId,
      integrationType: 'email',
      name: 'Support',
      isActive: true,
      // Plain-text SMTP, which this deployment does not allow: no retry can make it go through.
      config: { address: 'support@acme.test', smtp: { host: 'smtp.acme.test', port: 25, security: 'none' } },
    });
    const ticket = await createTicket(db, org.scope, { subject: 'Help', requesterEmail: 'jane@customer.test' });
    const emailId = randomUUID();
    await db.insert(ticketEmails).values({
      id: emailId,
      organizationId: org.organizationId,
      supportRequestId: ticket.id,
      integrationId,
      messageId: `${emailId}@acme.test`,
      direction: 'outbound',
      status: 'queued',
      kind: 'reply',
      fromAddress: 'support@acme.test',
      toAddresses: ['jane@customer.test'],
      subject: 'Re: [#1] Help',
      content: 'We are on it.',
    });
    const activities = createSendActivities({ db, credentialKeys: keys, settings, stores: {} } as unknown as SendDeps);

    // The thread workflow does not retry a configuration error; a throw here would leave the row queued for ever
    // (and fail the ticket's thread), with nothing on the ticket saying the reply never left.
    const result: SendResult = await new MockActivityEnvironment().run(activities.sendEmail, {
      organizationId: org.organizationId,
      emailId,
    });
    assert.equal(result.status, 'failed');
    const [row] = await db.select().from(ticketEmails).where(eq(ticketEmails.id, emailId));
    assert.equal(row!.status, 'failed');
    assert.match(row!.failureReason ?? '', /without TLS is not allowed/);
  });
});
