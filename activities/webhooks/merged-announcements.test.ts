// Announcements to the dispatcher made at the same time share a signal, and each caller learns the fate of the signal
// that carried its endpoint.
import assert from 'node:assert/strict';
import type { DispatchTarget } from '../../workflows/webhook-endpoint-contract.ts';
import { mergedAnnouncements } from './wake.ts';

const target = (id: string): DispatchTarget => ({ endpointId: id, organizationId: 'org' });

describe('merged announcements', () => {
  it('sends the first at once and the ones made while it is in flight together in the next signal', async () => {
    const sent: string[][] = [];
    const releases: Array<() => void> = [];
    const announce = mergedAnnouncements(
      (targets) =>
        new Promise<void>((resolve) => {
          sent.push(targets.map((t) => t.endpointId));
          releases.push(resolve);
        }),
    );
    const first = announce(target('a'));
    const later = [announce(target('b')), announce(target('c'))];
    assert.deepEqual(sent, [['a']]);
    releases[0]!();
    await first;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [['a'], ['b', 'c']], 'b and c share the signal that starts after a’s');
    releases[1]!();
    await Promise.all(later);
  });

  it('fails the callers of a failed signal only', async () => {
    let calls = 0;
    const announce = mergedAnnouncements(async () => {
      calls += 1;
      if (calls === 2) throw new Error('Temporal unreachable');
    });
    const first = announce(target('a'));
    const second = announce(target('b'));
    await first;
    await assert.rejects(second, /unreachable/);
    await announce(target('c'));
    assert.equal(calls, 3);
  });

  it('carries an endpoint announced twice while a signal is in flight once', async () => {
    const sent: string[][] = [];
    let release = () => {};
    const announce = mergedAnnouncements(async (targets) => {
      sent.push(targets.map((t) => t.endpointId));
      if (sent.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = announce(target('a'));
    const later = [announce(target('b')), announce(target('b')), announce(target('a'))];
    release();
    await Promise.all([first, ...later]);
    assert.deepEqual(sent, [['a'], ['b', 'a']]);
  });
});
