import assert from 'node:assert/strict';
import { reservedHeaderReason } from './request-headers.ts';

describe('custom webhook request headers', () => {
  it('may be any ordinary header', () => {
    for (const name of ['Authorization', 'X-Api-Key', 'x-tenant', 'User-Agent'])
      assert.equal(reservedHeaderReason(name, 'Bearer abc.def'), undefined, name);
  });

  it('may not set the headers that frame the request, in any case', () => {
    for (const name of ['Host', 'content-length', 'Transfer-Encoding', 'CONNECTION', 'Expect', 'Upgrade'])
      assert.match(reservedHeaderReason(name) ?? '', /is set by the sender and cannot be overridden/, name);
  });

  it('may not set or spoof Standard Webhooks headers', () => {
    for (const name of ['webhook-signature', 'Webhook-Id', 'webhook-timestamp', 'webhook-anything'])
      assert.match(reservedHeaderReason(name) ?? '', /reserved for Standard Webhooks/, name);
  });

  it('must have a valid name and a value without line breaks, and the value is never echoed', () => {
    assert.match(reservedHeaderReason('X Bad') ?? '', /not a valid header name/);
    assert.match(reservedHeaderReason('') ?? '', /not a valid header name/);
    const reason = reservedHeaderReason('X-Token', 'abc\r\nHost: evil') ?? '';
    assert.match(reason, /value of "X-Token" has a forbidden character/);
    assert.ok(!reason.includes('abc'));
  });
});
