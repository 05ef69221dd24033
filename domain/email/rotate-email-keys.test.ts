import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { emailInbound, integrationConfigs } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { parseKeyRing } from '../../common/config.ts';
import { openJson, sealJson } from '../../common/crypto/envelope.ts';
import { testDatabase, truncateAll } from '../../test/support/database.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { heldMessageContext, loadMailbox, replyTokenKey } from './mailboxes.ts';
import { rotateEmailKeys } from './rotate-email-keys.ts';

describe('master key rotation of email secrets', () => {
  const { db } = testDatabase();
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  const before = parseKeyRing(`old:${oldKey}`, undefined, 'test');
  const after = parseKeyRing(`old:${oldKey},new:${newKey}`, 'new', 'test');
  const onlyNew = parseKeyRing(`new:${newKey}`, undefined, 'test');

  // Other tests' mailboxes are sealed with the test ring, which these rings do not hold.
  beforeEach(truncateAll);

  it('re-wraps reply-token keys and held messages: they open with the new key alone, and a second run changes nothing', async () => {
    const org = await makeOrganization();
    const integrationId = randomUUID();
    await db.insert(integrationConfigs).values({
      id: integrationId,
      organizationId: org.organizationId,
      integrationType: 'email',
      name: 'Support',
      config: { address: 'support@acme.test' },
    });
    const mailbox = await loadMailbox(db, org.organizationId, integrationId);
    const key = await replyTokenKey(db, before, mailbox);
    const inboundId = randomUUID();
    await db.insert(emailInbound).values({
      id: inboundId,
      organizationId: org.organizationId,
      integrationId,
      messageId: `${inboundId}@acme.test`,
      via: 'webhook',
      status: 'held',
      heldMessage: sealJson(before, { raw: 'U3ViamVjdDogaGk=' }, heldMessageContext(org.organizationId, inboundId)),
    });

    const first = await rotateEmailKeys(db, after);
    assert.ok(first.rewrapped >= 2, JSON.stringify(first));
    assert.deepEqual(first.failed, []);
    assert.deepEqual(await replyTokenKey(db, onlyNew, mailbox), key, 'the same key, opened without the old one');
    const [held] = await db.select().from(emailInbound).where(eq(emailInbound.id, inboundId));
    assert.deepEqual(openJson(onlyNew, held!.heldMessage!, heldMessageContext(org.organizationId, inboundId)), {
      raw: 'U3ViamVjdDogaGk=',
    });
    const second = await rotateEmailKeys(db, after);
    assert.equal(second.rewrapped, 0);
  });
});
