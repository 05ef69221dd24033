import assert from 'node:assert/strict';
import { connectionFromReceived } from './received.ts';

const dovecotLmtp =
  'from mx.acme.example ([127.0.0.1])\r\n\tby mail.acme.example with LMTP\r\n\tid 0Ptl8n8AAGfW8QAAk6Bx0A\r\n\t(envelope-from <jane@customer.example>)\r\n\tfor <support@acme.example>; Mon, 02 Mar 2026 10:14:02 +0000';

describe('Received header connection info', () => {
  it('reads OpenSMTPD’s header (IPv4)', () => {
    assert.deepEqual(
      connectionFromReceived([
        'from mail.customer.example (mail.customer.example [192.0.2.10])\n\tby mx.acme.example (OpenSMTPD) with ESMTPS id 4f2a91c3 (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO)\n\tfor <support@acme.example>; Mon, 2 Mar 2026 10:14:01 +0000 (UTC)',
      ]),
      { ip: '192.0.2.10', helo: 'mail.customer.example' },
    );
  });

  it('reads OpenSMTPD’s header (IPv6, written without brackets)', () => {
    assert.deepEqual(
      connectionFromReceived([
        'from helo.customer.example (rdns.customer.example IPv6:2001:db8::25) by mx.acme.example (OpenSMTPD) with ESMTP id 1',
      ]),
      { ip: '2001:db8::25', helo: 'helo.customer.example' },
    );
  });

  it('reads Postfix’s header, IPv4 and IPv6, with an unknown reverse name', () => {
    assert.deepEqual(
      connectionFromReceived([
        'from helo.example (unknown [198.51.100.7]) by mx.acme.example (Postfix) with ESMTP id 4QZ; Mon, 2 Mar 2026',
      ]),
      { ip: '198.51.100.7', helo: 'helo.example' },
    );
    assert.deepEqual(
      connectionFromReceived([
        'from helo.example (host.example [IPv6:2001:DB8:0:0::1]) by mx.acme.example (Postfix) with ESMTPS id 4QZ',
      ]),
      { ip: '2001:db8::1', helo: 'helo.example' },
    );
  });

  it('reads Sendmail’s "(may be forged)" and Exim’s helo= forms', () => {
    assert.deepEqual(
      connectionFromReceived([
        'from helo.example (host.example [203.0.113.5] (may be forged)) by mx.acme.example (8.17.1/8.17.1) with ESMTP id x',
      ]),
      { ip: '203.0.113.5', helo: 'helo.example' },
    );
    assert.deepEqual(
      connectionFromReceived([
        'from host.example ([203.0.113.6]:41234 helo=claimed.example) by mx.acme.example with esmtps (Exim 4.97)',
      ]),
      { ip: '203.0.113.6', helo: 'claimed.example' },
    );
    assert.deepEqual(
      connectionFromReceived(['from [203.0.113.7] (helo=claimed.example) by mx.acme.example with esmtp (Exim 4.97)']),
      { ip: '203.0.113.7', helo: 'claimed.example' },
    );
  });

  it('reads an address literal HELO', () => {
    assert.deepEqual(connectionFromReceived(['from [192.0.2.1] (unknown [192.0.2.1]) by mx.acme.example with ESMTP']), {
      ip: '192.0.2.1',
      helo: '[192.0.2.1]',
    });
  });

  it('reads a bare IPv6 comment (Exchange)', () => {
    assert.deepEqual(
      connectionFromReceived([
        'from AM0PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:208:12::34) by AM0PR01MB5678.eurprd01.prod.exchangelabs.com with HTTPS',
      ]),
      { ip: '2603:10a6:208:12::34', helo: 'AM0PR01MB1234.eurprd01.prod.exchangelabs.com' },
    );
  });

  it('gives an IPv4-mapped IPv6 address as IPv4', () => {
    assert.equal(connectionFromReceived(['from h (h [IPv6:::ffff:192.0.2.9]) by mx with ESMTP'])?.ip, '192.0.2.9');
  });

  it('skips Dovecot’s LMTP header above ours', () => {
    assert.deepEqual(
      connectionFromReceived([
        dovecotLmtp,
        'from mail.customer.example (mail.customer.example [192.0.2.10]) by mx.acme.example (OpenSMTPD) with ESMTP id 1',
        'from evil (evil [10.6.6.6]) by mail.customer.example with ESMTP',
      ]),
      { ip: '192.0.2.10', helo: 'mail.customer.example' },
    );
  });

  it('never falls back to a lower, forgeable header when ours cannot be read', () => {
    assert.equal(
      connectionFromReceived([
        dovecotLmtp,
        'from helo (rdns local) by mx.acme.example (OpenSMTPD) with ESMTP id 1',
        'from forged (forged [203.0.113.66]) by somewhere with SMTP',
      ]),
      null,
    );
    assert.equal(
      connectionFromReceived(['by mx.acme.example with ESMTP id 1; Mon, 2 Mar 2026', 'from a (a [192.0.2.1]) by b']),
      null,
    );
  });

  it('returns null with no headers or only LMTP', () => {
    assert.equal(connectionFromReceived([]), null);
    assert.equal(connectionFromReceived([dovecotLmtp]), null);
  });

  it('ignores things that only look like addresses', () => {
    assert.equal(connectionFromReceived(['from h (h [999.1.1.1]) by mx with ESMTP']), null);
    assert.equal(connectionFromReceived(['from h (h 127.1) by mx with ESMTP']), null);
  });
});
