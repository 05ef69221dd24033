// `npm run rotate-keys`: re-wraps every integration's credential data key, and every attachment's and thumbnail's
// file key, and email's sealed secrets (reply-token keys, held messages), with the active master key.
// Rotation: add the new key to SWITCHBOARD_MASTER_KEYS (old keys stay listed), make it active
// (SWITCHBOARD_MASTER_KEY_ID or list it last), restart the API, run this; when it reports no failures,
// the old key can be dropped from the list. Idempotent: a second run re-wraps nothing.
import { connectDatabase, DEFAULT_DATABASE_URL } from '@switchboard/database';
import { parseKeyRing } from '../common/config.ts';
import { rotateEmailKeys } from '../domain/email/rotate-email-keys.ts';
import { rotateAttachmentKeys } from '../domain/files/rotate-attachment-keys.ts';
import { rotateCredentialKeys } from '../domain/integrations/rotate-credential-keys.ts';

const spec = process.env.SWITCHBOARD_MASTER_KEYS;
if (!spec) {
  console.error('SWITCHBOARD_MASTER_KEYS is required (kid:base64key,…)');
  process.exit(2);
}
const keys = parseKeyRing(spec, process.env.SWITCHBOARD_MASTER_KEY_ID, 'SWITCHBOARD_MASTER_KEYS');
const handle = connectDatabase(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, 2);
try {
  const report = await rotateCredentialKeys(handle.db, keys);
  console.log(
    `active key ${keys.activeKeyId}: scanned ${report.scanned}, rewrapped ${report.rewrapped}, ` +
      `already current ${report.alreadyCurrent}, changed meanwhile ${report.changedMeanwhile}, failed ${report.failed.length}`,
  );
  for (const failure of report.failed)
    console.error(`failed: integration ${failure.id} (organization ${failure.organizationId}): ${failure.reason}`);
  const files = await rotateAttachmentKeys(handle.db, keys);
  console.log(
    `attachments: scanned ${files.scanned} keys, rewrapped ${files.rewrapped}, already current ${files.alreadyCurrent}, ` +
      `changed meanwhile ${files.changedMeanwhile}, failed ${files.failed.length}`,
  );
  for (const failure of files.failed)
    console.error(`failed: attachment ${failure.id} (organization ${failure.organizationId}): ${failure.reason}`);
  const email = await rotateEmailKeys(handle.db, keys);
  console.log(
    `email: scanned ${email.scanned} (reply-token keys, held messages), rewrapped ${email.rewrapped}, already ` +
      `current ${email.alreadyCurrent}, changed meanwhile ${email.changedMeanwhile}, failed ${email.failed.length}`,
  );
  for (const failure of email.failed)
    console.error(`failed: email secret ${failure.id} (organization ${failure.organizationId}): ${failure.reason}`);
  process.exitCode = report.failed.length || files.failed.length || email.failed.length ? 1 : 0;
} finally {
  await handle.close();
}
