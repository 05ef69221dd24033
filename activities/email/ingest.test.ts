// ingestRaw against the database (no mail servers, DNS answering nothing): what one message does, whichever way it
// came in.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { emailInbound, integrationConfigs } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../../common/config.ts';
import { loadMailbox, mailboxContext } from '../../domain/email/mailboxes.ts';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { testDatabase } from '../../test/support/database.ts';
import type { AttachmentIntake } from '../files/intake.ts';
import { type IngestDeps, ingestRaw } from './ingest.ts';

describe('ingestRaw', () => {
  const { db } = testDatabase();
  const keys = loadConfig().credentialKeys;
  const deps: IngestDeps = {
    db,
    credentialKeys: keys,
    intake: {} as AttachmentIntake,
    resolver: async () => {
      throw Object.assign(new Error('no such name'), { code: 'ENOTFOUND' });
    },
    maxMessageBytes: 1024 * 1024,
  };

  async function mailbox() {
    const org = await makeOrganization();
    const id = randomUUID();
    await db.insert(integrationConfigs).values({
      id,
      organizationId: org.organizationId,
      integrationType: 'email',
      name: 'Support',
      isActive: true,
      config: { address: 'support@acme.test' },
    });
    return mailboxContext(db, keys, await loadMailbox(db, org.organizationId, id), 'imap');
  }

  it('records a message the desk cannot file as refused instead of failing on it for ever (which blocks the mailbox)', async () => {
    const box = await mailbox();
    // A cron job's mail from a local account: a valid From for mailparser, not an address a ticket's requester takes.
    const raw = Buffer.from(
      [
        'From: root@localhost',
        'To: support@acme.test',
        'Subject: Cron output',
        'Message-ID: <cron-1@host>',
        '',
        'done',
        '',
      ].join('\r\n'),
    );
    const result = await ingestRaw(deps, box, raw);
    assert.equal(result.status, 'refused');
    const [row] = await db.select().from(emailInbound).where(eq(emailInbound.integrationId, box.integrationId));
    assert.equal(row!.status, 'refused');
    assert.equal(row!.messageId, 'cron-1@host');
    assert.match(row!.reason ?? '', /requesterEmail/);
    // Posted again (a retry, a resync): the same refusal, not a second row.
    assert.equal((await ingestRaw(deps, box, raw)).status, 'duplicate');
  });

  it('files a message whose Message-ID is too long to index, instead of failing on it for ever', async () => {
    const box = await mailbox();
    const longId = `<${randomBytes(3000).toString('hex')}@spam.test>`;
    const raw = Buffer.from(
      [
        'From: jane@customer.test',
        'To: support@acme.test',
        'Subject: Hello',
        `Message-ID: ${longId}`,
        '',
        'hi',
        '',
      ].join('\r\n'),
    );
    const first = await ingestRaw(deps, box, raw);
    assert.notEqual(first.status, 'duplicate');
    assert.equal((await ingestRaw(deps, box, raw)).status, 'duplicate', 'still filed once');
  });

  it('refuses a From address too long for any mailbox, instead of failing on it for ever', async () => {
    const box = await mailbox();
    const raw = Buffer.from(
      [
        `From: ${randomBytes(2000).toString('hex')}@customer.test`,
        'To: support@acme.test',
        'Subject: Hello',
        'Message-ID: <long-from@x>',
        '',
        'hi',
        '',
      ].join('\r\n'),
    );
    const result = await ingestRaw(deps, box, raw);
    assert.equal(result.status, 'refused');
    assert.match(result.status === 'refused' ? result.reason : '', /From address/);
  });

  it('files a message whose subject and text carry NUL characters (which PostgreSQL text cannot hold)', async () => {
    const box = await mailbox();
    const raw = Buffer.from(
      [
        'From: jane@customer.test',
        'To: support@acme.test',
        'Subject: =?UTF-8?Q?Invoice=00_42?=',
        'Message-ID: <nul-1@customer.test>',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('Hello\u0000 world').toString('base64'),
        '',
      ].join('\r\n'),
    );
    const result = await ingestRaw(deps, box, raw);
    assert.equal(result.status, 'ingested');
  });
});
