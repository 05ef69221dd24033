import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ticketAttachments } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { thumbnailContext } from '../../activities/files/intake.ts';
import { parseKeyRing } from '../../common/config.ts';
import {
  decryptStream,
  encryptStream,
  fileKeyContext,
  newFileKey,
  openFileKey,
} from '../../common/files/sealed-stream.ts';
import { testDatabase, truncateAll } from '../../test/support/database.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { createTicket } from '../tickets/create-ticket.ts';
import { rotateAttachmentKeys } from './rotate-attachment-keys.ts';

describe('master key rotation of attachments', () => {
  const { db } = testDatabase();
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  const before = parseKeyRing(`old:${oldKey}`, undefined, 'test');
  const after = parseKeyRing(`old:${oldKey},new:${newKey}`, 'new', 'test');
  const onlyNew = parseKeyRing(`new:${newKey}`, undefined, 'test');

  beforeEach(truncateAll);

  it('re-wraps file and thumbnail keys with the active key: the same ciphertext opens without the old key', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 'rotation' });
    const id = randomUUID();
    const file = newFileKey(before, fileKeyContext(org.organizationId, id));
    const thumb = newFileKey(before, thumbnailContext(org.organizationId, id));
    const plaintext = Buffer.from('rotate me, keep me');
    const sealed = await buffer(
      Readable.from([plaintext]).pipe(
        encryptStream(file.dataKey, file.envelope, fileKeyContext(org.organizationId, id)),
      ),
    );
    await db.insert(ticketAttachments).values({
      id,
      organizationId: org.organizationId,
      supportRequestId: ticket.id,
      fileName: 'r.txt',
      fileSize: plaintext.length,
      mimeType: 'text/plain',
      storageKey: `attachments/${org.organizationId}/${id}`,
      keyEnvelope: file.envelope,
      thumbnailEnvelope: thumb.envelope,
    });

    const report = await rotateAttachmentKeys(db, after);
    assert.equal(report.rewrapped, 2);
    assert.equal(report.failed.length, 0);
    const [row] = await db.select().from(ticketAttachments).where(eq(ticketAttachments.id, id));
    assert.equal(row!.keyEnvelope!.kid, 'new');
    assert.equal(row!.thumbnailEnvelope!.kid, 'new');
    const key = openFileKey(onlyNew, row!.keyEnvelope!, fileKeyContext(org.organizationId, id));
    const opened = await buffer(
      Readable.from([sealed]).pipe(
        decryptStream(key, row!.keyEnvelope!, fileKeyContext(org.organizationId, id), { plainSize: plaintext.length }),
      ),
    );
    assert.deepEqual(opened, plaintext);
    openFileKey(onlyNew, row!.thumbnailEnvelope!, thumbnailContext(org.organizationId, id));

    const again = await rotateAttachmentKeys(db, after);
    assert.equal(again.rewrapped, 0);
    assert.ok(again.alreadyCurrent >= 2);
  });
});
