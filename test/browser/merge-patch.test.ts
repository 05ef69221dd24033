// The dashboard's forms edit a whole integration config; what they send is the merge patch between the stored
// config and the edited one, which the API applies (domain/merge-patch.ts) to get the edited config back.
import assert from 'node:assert/strict';
import { applyMergePatch } from '../../domain/merge-patch.ts';
import { mergePatchBetween } from '../../packages/dashboard/src/merge-patch.ts';

describe('dashboard: config changes as merge patches', () => {
  const stored = {
    teamId: 't1',
    statusToLinear: { open: 's1', solved: 's2' },
    labelIds: ['a', 'b'],
    syncPriority: true,
    webhookId: 'w1',
  };

  it('sends only what changed, null for what the form dropped, nested patches for maps', () => {
    const edited = { teamId: 't1', statusToLinear: { open: 's9' }, labelIds: ['a'], syncPriority: true };
    assert.deepEqual(mergePatchBetween(stored, edited), {
      webhookId: null,
      statusToLinear: { solved: null, open: 's9' },
      labelIds: ['a'],
    });
  });

  it('sends an empty patch when nothing changed', () => {
    assert.deepEqual(mergePatchBetween(stored, structuredClone(stored)), {});
  });

  it('round-trips: the server applying the patch to the stored config gets the edited one', () => {
    const edited = { teamId: 't2', statusToLinear: {}, labelIds: [], extra: { deep: { x: 1 } } };
    assert.deepEqual(applyMergePatch(stored, mergePatchBetween(stored, edited)), edited);
  });
});
