import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import {
  type AutoReplyInput,
  automatedMailReason,
  autoReplyHeaders,
  autoReplyVerdict,
  isAutomatedMail,
  LOOP_HEADER,
} from './auto-reply.ts';

const now = new Date('2026-03-01T12:00:00Z');
const hour = 3600_000;
const input = (over: Partial<AutoReplyInput>): AutoReplyInput => ({
  headers: {},
  from: 'jane@customer.example',
  ourAddresses: ['support@acme.example', 'notifications@acme.example'],
  lastSentToSenderAt: null,
  windowMs: 24 * hour,
  now,
  loopHeaderValue: 'acme-install-1',
  ...over,
});
const refused = (over: Partial<AutoReplyInput>) => {
  const verdict = autoReplyVerdict(input(over));
  assert.equal(verdict.send, false, JSON.stringify(over));
  return verdict.send ? '' : verdict.reason;
};

describe('auto-reply verdict', () => {
  it('answers a person’s first mail', () => {
    assert.deepEqual(autoReplyVerdict(input({})), { send: true });
  });

  it('answers mail marked Auto-Submitted: no', () => {
    assert.deepEqual(autoReplyVerdict(input({ headers: { 'Auto-Submitted': 'no' } })), { send: true });
    assert.deepEqual(autoReplyVerdict(input({ headers: { 'auto-submitted': ' No ; comment' } })), { send: true });
  });

  it('refuses Auto-Submitted other than no (RFC 3834)', () => {
    for (const value of ['auto-replied', 'auto-generated', 'auto-notified', 'Auto-Replied; owner-email=x@y', ''])
      assert.match(refused({ headers: { 'Auto-Submitted': value } }), /Auto-Submitted/);
  });

  it('refuses Precedence bulk, list, junk and auto_reply, but not first-class', () => {
    for (const value of ['bulk', 'list', 'junk', 'BULK', 'auto_reply'])
      assert.match(refused({ headers: { Precedence: value } }), /Precedence/);
    assert.deepEqual(autoReplyVerdict(input({ headers: { Precedence: 'first-class' } })), { send: true });
  });

  it('refuses any X-Auto-Response-Suppress', () => {
    for (const value of ['All', 'OOF', 'DR, RN, NRN', ''])
      assert.match(refused({ headers: { 'X-Auto-Response-Suppress': value } }), /X-Auto-Response-Suppress/);
  });

  it('refuses list mail (List-Id, List-Unsubscribe)', () => {
    assert.match(refused({ headers: { 'List-Id': 'News <news.example.com>' } }), /List-Id/);
    assert.match(refused({ headers: { 'List-Unsubscribe': '<mailto:u@x.example>' } }), /List-Unsubscribe/);
  });

  it('refuses vacation responders that only say X-Autoreply', () => {
    assert.match(refused({ headers: { 'X-Autoreply': 'yes' } }), /X-Autoreply/);
    assert.match(refused({ headers: { 'X-Autorespond': 'vacation' } }), /X-Autoreply/);
  });

  it('refuses bounces: a null Return-Path, a delivery report', () => {
    assert.match(refused({ headers: { 'Return-Path': '<>' } }), /Return-Path/);
    assert.match(refused({ headers: { 'Content-Type': 'multipart/report; report-type=delivery-status' } }), /report/);
    assert.deepEqual(autoReplyVerdict(input({ headers: { 'Return-Path': '<jane@customer.example>' } })), {
      send: true,
    });
  });

  it('refuses machine senders', () => {
    for (const from of [
      'MAILER-DAEMON@mx.customer.example',
      'postmaster@customer.example',
      'no-reply@shop.example',
      'noreply@shop.example',
      'NoReply <NOREPLY@shop.example>',
      'do-not-reply@shop.example',
      'donotreply@shop.example',
      'owner-announce@lists.example',
      'announce-request@lists.example',
    ])
      assert.match(refused({ from }), /machine sender/, from);
  });

  it('answers people whose address merely contains those words', () => {
    for (const from of ['noreplyking@customer.example', 'post.master@customer.example', 'replyto@customer.example'])
      assert.deepEqual(autoReplyVerdict(input({ from })), { send: true }, from);
  });

  it('refuses our own addresses, with or without a +tag', () => {
    assert.match(refused({ from: 'Support <support@acme.example>' }), /our own/);
    assert.match(refused({ from: 'support+abc123@ACME.example' }), /our own/);
    assert.match(refused({ from: 'notifications@acme.example' }), /our own/);
  });

  it('refuses mail carrying our loop header, naming whose it is', () => {
    assert.equal(refused({ headers: { [LOOP_HEADER]: 'acme-install-1' } }), 'our own mail came back');
    assert.match(refused({ headers: { 'x-switchboard-loop': 'someone-else' } }), /another helpdesk/);
    assert.match(refused({ headers: { [LOOP_HEADER]: 'x' }, loopHeaderValue: undefined }), /X-Switchboard-Loop/);
  });

  it('refuses a sender with no address', () => {
    assert.match(refused({ from: '' }), /no sender/);
    assert.match(refused({ from: 'undisclosed-recipients:;' }), /no sender/);
  });

  it('answers once per sender per window', () => {
    assert.match(refused({ lastSentToSenderAt: new Date(now.getTime() - hour) }), /window/);
    assert.match(refused({ lastSentToSenderAt: new Date(now.getTime() - 24 * hour + 1) }), /window/);
    assert.deepEqual(autoReplyVerdict(input({ lastSentToSenderAt: new Date(now.getTime() - 24 * hour) })), {
      send: true,
    });
  });

  it('reads header names case-insensitively, from a Map or a record, and arrays', () => {
    assert.match(refused({ headers: new Map([['PRECEDENCE', 'bulk']]) }), /Precedence/);
    assert.match(refused({ headers: { precedence: ['list', 'bulk'] } }), /Precedence/);
  });

  it('reads mailparser’s parsed headers, including its folded `list` object', async () => {
    const parse = async (head: string) =>
      (await simpleParser(`From: a@customer.example\r\nTo: support@acme.example\r\n${head}\r\n\r\nbody\r\n`)).headers;
    assert.equal(automatedMailReason(await parse('List-Id: News <news.example.com>')), 'List-Id');
    assert.equal(automatedMailReason(await parse('List-Unsubscribe: <mailto:u@x.example>')), 'List-Unsubscribe');
    assert.equal(automatedMailReason(await parse('Auto-Submitted: auto-replied')), 'Auto-Submitted: auto-replied');
    assert.equal(automatedMailReason(await parse('Return-Path: <>')), 'null Return-Path');
    assert.equal(
      automatedMailReason(await parse('Content-Type: multipart/report; report-type=delivery-status; boundary=b')),
      'multipart/report',
    );
    assert.equal(automatedMailReason(await parse('Return-Path: <a@customer.example>\r\nSubject: hi')), null);
  });

  it('marks automated mail with the same header rules', () => {
    assert.ok(isAutomatedMail({ 'Auto-Submitted': 'auto-generated' }));
    assert.ok(isAutomatedMail({ [LOOP_HEADER]: 'x' }));
    assert.ok(!isAutomatedMail({ Subject: 'Help', 'Auto-Submitted': 'no' }));
  });

  it('our auto-replies carry RFC 3834’s marker, Microsoft’s suppression and our loop header', () => {
    const headers = autoReplyHeaders('acme-install-1');
    assert.deepEqual(headers, {
      'Auto-Submitted': 'auto-replied',
      'X-Auto-Response-Suppress': 'All',
      'X-Switchboard-Loop': 'acme-install-1',
    });
    // And they are what another responder, or we ourselves, would refuse to answer.
    assert.ok(isAutomatedMail(headers));
  });
});
