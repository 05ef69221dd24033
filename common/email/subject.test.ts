import assert from 'node:assert/strict';
import { baseSubject, replySubject, ticketNumberInSubject } from './subject.ts';

describe('email subjects', () => {
  it('reads the ticket number from [#n]', () => {
    assert.equal(ticketNumberInSubject('Re: [#123] Printer on fire'), 123);
    assert.equal(ticketNumberInSubject('[#7]'), 7);
  });

  it('takes the last reference when there are several', () => {
    assert.equal(ticketNumberInSubject('Fwd: [#12] old thread [#345] new'), 345);
  });

  it('returns null without a reference, or with a malformed one', () => {
    assert.equal(ticketNumberInSubject('Order 123'), null);
    assert.equal(ticketNumberInSubject('#123'), null);
    assert.equal(ticketNumberInSubject('[# 123]'), null);
    assert.equal(ticketNumberInSubject('[#abc]'), null);
    assert.equal(ticketNumberInSubject('[#0]'), null);
    assert.equal(ticketNumberInSubject('[#1234567890123456789]'), null);
    assert.equal(ticketNumberInSubject(''), null);
  });

  it('prefixes Re: and the reference', () => {
    assert.equal(replySubject('Printer on fire', 123), 'Re: [#123] Printer on fire');
  });

  it('does not double the reference or the prefix on a round trip', () => {
    let subject = 'Printer on fire';
    for (let i = 0; i < 3; i++) subject = replySubject(`RE: ${replySubject(subject, 123)}`, 123);
    assert.equal(subject, 'Re: [#123] Printer on fire');
  });

  it('strips reply and forward prefixes in common languages and styles', () => {
    for (const prefixed of [
      'Re: Printer on fire',
      'RE: Printer on fire',
      're:Printer on fire',
      'Fwd: Printer on fire',
      'FW: Printer on fire',
      'Aw: Printer on fire',
      'WG: Printer on fire',
      'SV: Printer on fire',
      'TR: Printer on fire',
      'RV: Printer on fire',
      'Antw: Printer on fire',
      'Odp: Printer on fire',
      'Re[2]: Printer on fire',
      'Re(3): Printer on fire',
      'Re: Fwd: RE: Printer on fire',
      '回复：Printer on fire',
      'RE: [#123] Re: Printer on fire',
      '[#123] Printer on fire',
      'Re:  [#123]   Printer\r\n on fire',
    ])
      assert.equal(replySubject(prefixed, 123), 'Re: [#123] Printer on fire', prefixed);
  });

  it('keeps words that only look like prefixes, and other tickets’ references', () => {
    assert.equal(replySubject('Regarding: invoice', 5), 'Re: [#5] Regarding: invoice');
    assert.equal(replySubject('Reply needed', 5), 'Re: [#5] Reply needed');
    assert.equal(replySubject('[EXTERNAL] Re: invoice', 5), 'Re: [#5] [EXTERNAL] Re: invoice');
    assert.equal(replySubject('Re: [#12] merged', 5), 'Re: [#5] [#12] merged');
    assert.equal(replySubject('Re: [#123] invoice', 12), 'Re: [#12] [#123] invoice');
  });

  it('handles an empty subject', () => {
    assert.equal(replySubject('', 9), 'Re: [#9]');
    assert.equal(replySubject('Re: [#9]', 9), 'Re: [#9]');
  });

  it('gives the base subject without prefixes', () => {
    assert.equal(baseSubject('RE: Fwd:  Hello   there'), 'Hello there');
  });
});
