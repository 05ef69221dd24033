import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { integrationConfigs } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { parseKeyRing } from '../../common/config.ts';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import { TEST_DATABASE_URL, testDatabase, truncateAll } from '../../test/support/database.ts';
import { createIntegrationWithProbes } from '../../test/support/probe-integrations.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { rotateCredentialKeys } from './rotate-credential-keys.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../scripts/rotate-keys.ts', import.meta.url));

describe('master key rotation', () => {
  const { db } = testDatabase();
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  const before = parseKeyRing(`old:${oldKey}`, undefined, 'test');
  const after = parseKeyRing(`old:${oldKey},new:${newKey}`, 'new', 'test');
  const onlyNew = parseKeyRing(`new:${newKey}`, undefined, 'test');

  beforeEach(truncateAll);

  async function seed(count: number) {
    const org = await makeOrganization();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const created = await createIntegrationWithProbes(db, before, org.scope, {
        integrationType: 'probe',
        name: `slack ${i}`,
        config: {},
        credentials: { botToken: `xoxb-secret-number-${i}-abcdefgh` },
      });
      ids.push(created.id);
    }
    await createIntegrationWithProbes(db, before, org.scope, {
      integrationType: 'probe',
      name: 'no secrets',
      config: {},
    });
    return { org, ids };
  }

  it('re-wraps every data key with the active key; the credentials decrypt the same without the old key', async () => {
    const { org, ids } = await seed(3);
    const ciphertextBefore = (await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, ids[0]!)))[0]!
      .credentials!.ciphertext;
    const report = await rotateCredentialKeys(db, after);
    assert.deepEqual(report, { scanned: 3, rewrapped: 3, alreadyCurrent: 0, changedMeanwhile: 0, failed: [] });
    const row = (await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, ids[0]!)))[0]!;
    assert.equal(row.credentials!.kid, 'new');
    assert.equal(row.credentials!.ciphertext, ciphertextBefore);
    for (const [i, id] of ids.entries())
      assert.deepEqual(await loadIntegrationCredentials(db, onlyNew, org.organizationId, id), {
        botToken: `xoxb-secret-number-${i}-abcdefgh`,
      });
  });

  it('is idempotent: a second run re-wraps nothing', async () => {
    await seed(2);
    await rotateCredentialKeys(db, after);
    assert.deepEqual(await rotateCredentialKeys(db, after), {
      scanned: 2,
      rewrapped: 0,
      alreadyCurrent: 2,
      changedMeanwhile: 0,
      failed: [],
    });
  });

  it('reports records whose key is missing from the ring instead of stopping', async () => {
    const { ids } = await seed(1);
    const report = await rotateCredentialKeys(db, onlyNew);
    assert.equal(report.rewrapped, 0);
    assert.deepEqual(
      report.failed.map((f) => f.id),
      ids,
    );
    assert.match(report.failed[0]!.reason, /master key "old"/);
  });

  it('runs as `npm run rotate-keys`, printing the counts', async () => {
    await seed(2);
    const env = {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      SWITCHBOARD_MASTER_KEYS: `old:${oldKey},new:${newKey}`,
      SWITCHBOARD_MASTER_KEY_ID: 'new',
    };
    const first = await run(process.execPath, [script], { env });
    assert.match(
      first.stdout,
      /active key new: scanned 2, rewrapped 2, already current 0, changed meanwhile 0, failed 0/,
    );
    const second = await run(process.execPath, [script], { env });
    assert.match(second.stdout, /scanned 2, rewrapped 0, already current 2/);
  });
});
