import assert from 'node:assert/strict';
import { emailConfigSchema } from './config.ts';

describe('email config', () => {
  const imap = { host: 'imap.acme.test', username: 'support', afterIngest: 'move' };

  it('refuses moving processed mail into the folder it is read from (it would come back as new, for ever)', () => {
    for (const [mailbox, moveTo] of [
      ['INBOX', 'INBOX'],
      ['INBOX', 'inbox'],
      ['Support', 'Support'],
    ]) {
      const result = emailConfigSchema.safeParse({ address: 'support@acme.test', imap: { ...imap, mailbox, moveTo } });
      assert.equal(result.success, false, `${mailbox} → ${moveTo}`);
      assert.deepEqual(result.error.issues[0]!.path, ['imap', 'moveTo']);
    }
    assert.ok(
      emailConfigSchema.safeParse({ address: 'support@acme.test', imap: { ...imap, moveTo: 'Processed' } }).success,
    );
  });
});
