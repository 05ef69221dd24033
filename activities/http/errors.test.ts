import assert from 'node:assert/strict';
import { ConnectionRefusedError, TimeoutError, toSafePostError } from './errors.ts';

/** What Node's net stack throws: a message naming the address it tried, and the address as a field. */
function systemError(code: string, message: string, address: string, port = 443) {
  return Object.assign(new Error(message), { code, address, port, syscall: 'connect' });
}

describe('delivery errors', () => {
  it('keep what failed but not the address a name resolved to (an internal DNS answer)', () => {
    const refused = toSafePostError(systemError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.3.7:443', '10.0.3.7'));
    assert.ok(refused instanceof ConnectionRefusedError);
    assert.equal(refused.message, 'connect ECONNREFUSED <address>');

    const v6 = toSafePostError(systemError('ETIMEDOUT', 'connect ETIMEDOUT fd00:ec2::23:443', 'fd00:ec2::23'));
    assert.ok(v6 instanceof TimeoutError);
    assert.doesNotMatch(v6.message, /fd00/);

    // Happy Eyeballs: several addresses tried, each failure naming its own.
    const both = new AggregateError(
      [
        systemError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.3.7:443', '10.0.3.7'),
        systemError('ECONNREFUSED', 'connect ECONNREFUSED fd00::7:443', 'fd00::7'),
      ],
      'connect ECONNREFUSED 10.0.3.7:443, connect ECONNREFUSED fd00::7:443',
    );
    const aggregate = toSafePostError(both);
    assert.ok(aggregate instanceof ConnectionRefusedError);
    assert.doesNotMatch(aggregate.message, /10\.0\.3\.7|fd00/);
  });
});
