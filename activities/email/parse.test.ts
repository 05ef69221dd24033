import assert from 'node:assert/strict';
import { autoReplyVerdict, isAutomatedMail } from '../../common/email/auto-reply.ts';
import { parseInbound } from './parse.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

describe('parseInbound', () => {
  it('keeps what marks a read receipt or a bounce as machine mail, so neither gets an acknowledgement', async () => {
    // An Outlook read receipt: from the customer's own address, no Auto-Submitted, only its MIME type says it.
    const receipt = await parseInbound(
      crlf([
        'From: Jane <jane@customer.test>',
        'To: support@acme.test',
        'Subject: Read: My invoice',
        'Message-ID: <mdn-1@customer.test>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'Your message was read.',
        '--b',
        'Content-Type: message/disposition-notification',
        '',
        'Disposition: manual-action/MDN-sent-manually; displayed',
        '--b--',
        '',
      ]),
    );
    assert.ok(isAutomatedMail(receipt.headers), 'multipart/report is machine mail');

    // A bounce from a relay whose sender is no mailer-daemon: its null envelope sender says what it is.
    const bounce = await parseInbound(
      crlf([
        'Return-Path: <>',
        'From: Delivery reports <reports@relay.test>',
        'To: support@acme.test',
        'Subject: Undeliverable',
        'Message-ID: <bounce-1@relay.test>',
        '',
        'Your message could not be delivered.',
        '',
      ]),
    );
    const verdict = autoReplyVerdict({
      headers: bounce.headers,
      from: bounce.from.address,
      ourAddresses: ['support@acme.test'],
      lastSentToSenderAt: null,
      windowMs: 3_600_000,
      now: new Date(),
    });
    assert.deepEqual(verdict, { send: false, reason: 'automated mail (null Return-Path)' });
  });
});
