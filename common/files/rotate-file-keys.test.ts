import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KeyRing } from '../config.ts';
import { type FileKeyRow, rotateFileKeys } from './rotate-file-keys.ts';
import { type FileKeyEnvelope, fileKeyContext, newFileKey, openFileKey } from './sealed-stream.ts';

const keyBytes: Record<string, Buffer> = { k1: randomBytes(32), k2: randomBytes(32), gone: randomBytes(32) };
const ring = (active: string, ...ids: string[]): KeyRing => ({
  activeKeyId: active,
  keys: new Map(ids.map((id) => [id, keyBytes[id]!])),
});

function row(id: string, kid: string): { row: FileKeyRow; dataKey: Buffer } {
  const { dataKey, envelope } = newFileKey(ring(kid, kid), fileKeyContext('org-1', id));
  return { row: { id, organizationId: 'org-1', envelope }, dataKey };
}

describe('attachment key rotation', () => {
  it('re-wraps old rows, skips current ones, reports the unopenable, and is idempotent', async () => {
    const a = row('att-a', 'k1');
    const b = row('att-b', 'k2');
    const lost = row('att-lost', 'gone');
    const raced = row('att-raced', 'k1');
    // The table: id -> envelope. save compares the whole envelope, as the credentials rotation does; att-raced was
    // changed by someone else between listing and saving.
    const table = new Map<string, FileKeyEnvelope>([a, b, lost, raced].map(({ row }) => [row.id, row.envelope]));
    const save = async (r: FileKeyRow, rewrapped: FileKeyEnvelope) => {
      if (r.id === 'att-raced') return false;
      if (JSON.stringify(table.get(r.id)) !== JSON.stringify(r.envelope)) return false;
      table.set(r.id, rewrapped);
      return true;
    };
    const keys = ring('k2', 'k1', 'k2');
    const list = () => [...table].map(([id, envelope]) => ({ id, organizationId: 'org-1', envelope }));

    const first = await rotateFileKeys(keys, list(), save);
    assert.deepEqual(
      { ...first, failed: first.failed.map((f) => f.id) },
      { scanned: 4, rewrapped: 1, alreadyCurrent: 1, changedMeanwhile: 1, failed: ['att-lost'] },
    );
    assert.match(first.failed[0]!.reason, /master key "gone"/);
    assert.equal(table.get('att-a')!.kid, 'k2');
    // The same data key, now opened without k1.
    assert.ok(openFileKey(ring('k2', 'k2'), table.get('att-a')!, fileKeyContext('org-1', 'att-a')).equals(a.dataKey));

    // A key sealed under another context (a thumbnail's) says so in its row.
    const thumbContext = `${fileKeyContext('org-1', 'att-a')}/thumbnail`;
    const thumb = newFileKey(ring('k1', 'k1'), thumbContext).envelope;
    const thumbRow = { id: 'att-a', organizationId: 'org-1', envelope: thumb, context: thumbContext };
    const thumbReport = await rotateFileKeys(keys, [thumbRow], async () => true);
    assert.equal(thumbReport.rewrapped, 1);
    assert.equal(
      (await rotateFileKeys(keys, [{ ...thumbRow, context: undefined }], async () => true)).failed.length,
      1,
    );

    const second = await rotateFileKeys(keys, list(), save);
    assert.equal(second.rewrapped, 0);
    assert.equal(second.alreadyCurrent, 2);
  });
});
