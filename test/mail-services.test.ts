// What the email tests rely on from the local mail servers (scripts/mail-services.sh, test/support/mail-services.ts):
// mail sent over SMTP lands in the recipient's IMAP mailbox as sent, with the Received header ingest reads the
// client's address and HELO from; IDLE hears of it at once; unknown recipients are refused; the test domains' DNS
// records make mailauth's DKIM, SPF and DMARC verdicts come out as each domain is meant to.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { authenticate } from 'mailauth';
import nodemailer from 'nodemailer';
import {
  addMailUser,
  clearMailbox,
  dkimKey,
  ensureMailServices,
  mailauthResolver,
  setExtraDnsTxtRecords,
  startMailService,
  stopMailService,
  testDnsResolver,
  testMailServices,
} from './support/mail-services.ts';

const PASSWORD = 'correct horse battery staple';
const HELO = 'client.pass.test';

describe('local mail servers for the email tests', function () {
  this.timeout(60_000);
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const alice = `alice-${run}@support.test`;
  const imaps: ImapFlow[] = [];

  before(async () => {
    await ensureMailServices();
    await addMailUser(alice, PASSWORD);
  });
  afterEach(async () => {
    await Promise.all(imaps.splice(0).map((client) => client.logout().catch(() => client.close())));
  });

  function smtp(dkim?: ReturnType<typeof dkimKey>) {
    return nodemailer.createTransport({
      host: testMailServices.smtp.host,
      port: testMailServices.smtp.port,
      secure: false,
      ignoreTLS: true,
      name: HELO,
      dkim,
    });
  }

  async function imap(user = alice, password = PASSWORD, server = testMailServices.imap): Promise<ImapFlow> {
    const client = new ImapFlow({
      ...server,
      secure: false,
      doSTARTTLS: false,
      auth: { user, pass: password },
      logger: false,
    });
    await client.connect();
    imaps.push(client);
    return client;
  }

  async function send(from: string, subject: string, dkim?: ReturnType<typeof dkimKey>) {
    return smtp(dkim).sendMail({ from, to: alice, subject, text: `${subject}\n` });
  }

  /** The raw message with this subject once it is in the inbox (delivery through LMTP is asynchronous). */
  async function fetchBySubject(subject: string): Promise<{ uid: number; source: Buffer }> {
    const client = await imap();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const uids = await client.search({ subject }, { uid: true });
        if (uids && uids.length > 0) {
          const message = await client.fetchOne(String(uids[0]), { uid: true, source: true }, { uid: true });
          if (message !== false && message.source) return { uid: message.uid, source: message.source };
        }
      } finally {
        lock.release();
      }
      if (Date.now() > deadline) assert.fail(`no message "${subject}" arrived in ${alice}'s inbox`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const header = (source: Buffer, name: string) =>
    (source.toString('latin1').split(/\r?\n\r?\n/)[0] ?? '')
      .replace(/\r?\n[ \t]+/g, ' ')
      .split(/\r?\n/)
      .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`));

  it('delivers mail sent over SMTP to the IMAP inbox, Message-ID intact, under a Received naming HELO and IP', async () => {
    const sent = await send('sender@nodkim.test', `hello ${run}`);
    assert.deepEqual(sent.rejected, []);
    const { uid, source } = await fetchBySubject(`hello ${run}`);
    assert.ok(uid > 0);
    assert.deepEqual(header(source, 'Message-ID'), [`Message-ID: ${sent.messageId}`]);
    // The SMTP server's Received header is the topmost (Dovecot's LMTP adds none), as ingest expects.
    const [received, ...more] = header(source, 'Received');
    assert.equal(more.length, 0, more.join('\n'));
    assert.match(
      received ?? '',
      new RegExp(`^Received: from ${HELO.replaceAll('.', '\\.')} \\(.*\\[127\\.0\\.0\\.1\\]\\)`),
    );
    assert.match(received ?? '', / by mail\.support\.test /);
    assert.deepEqual(header(source, 'Return-Path'), ['Return-Path: <sender@nodkim.test>']);
  });

  it('delivers mail to a +tagged address (a reply token) into the same mailbox', async () => {
    const [local, domain] = alice.split('@');
    const sent = await smtp().sendMail({
      from: 'sender@nodkim.test',
      to: `${local}+t0ken@${domain}`,
      subject: `tagged ${run}`,
      text: 'reply\n',
    });
    assert.deepEqual(sent.rejected, []);
    const { source } = await fetchBySubject(`tagged ${run}`);
    assert.deepEqual(header(source, 'Delivered-To'), [`Delivered-To: ${local}+t0ken@${domain}`]);
  });

  it('refuses an unknown recipient of a local domain with a permanent 5xx at RCPT TO', async () => {
    await assert.rejects(
      smtp().sendMail({ from: 'sender@nodkim.test', to: `nobody-${run}@support.test`, subject: 'lost', text: 'x' }),
      (error: { responseCode?: number; code?: string }) => {
        assert.equal(error.code, 'EENVELOPE');
        assert.ok(
          error.responseCode && error.responseCode >= 500 && error.responseCode < 600,
          String(error.responseCode),
        );
        return true;
      },
    );
  });

  it('refuses mail for another domain (relays nothing)', async () => {
    await assert.rejects(
      smtp().sendMail({ from: 'sender@nodkim.test', to: 'someone@example.com', subject: 'relay', text: 'x' }),
      (error: { responseCode?: number }) => error.responseCode === 550,
    );
  });

  it('tells an IDLE session about new mail as it arrives', async () => {
    const client = await imap();
    const lock = await client.getMailboxLock('INBOX');
    try {
      const before = client.mailbox ? client.mailbox.exists : 0;
      const grown = new Promise<number>((resolve) => client.on('exists', (data) => resolve(data.count)));
      const idling = client.idle();
      await send('sender@nodkim.test', `idle ${run}`);
      const count = await Promise.race([
        grown,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('IDLE heard nothing in 5 s')), 5000)),
      ]);
      assert.equal(count, before + 1);
      await client.noop(); // ends IDLE
      await idling;
    } finally {
      lock.release();
    }
  });

  it('takes a new user and a new password at once, without a restart', async () => {
    const bob = `bob-${run}@pass.test`;
    await addMailUser(bob, 'first');
    await addMailUser(bob, 'first'); // idempotent
    const sent = await smtp().sendMail({ from: 'sender@nodkim.test', to: bob, subject: 'hi bob', text: 'x' });
    assert.deepEqual(sent.rejected, []);
    (await imap(bob, 'first')).close();
    await addMailUser(bob, 'second');
    await assert.rejects(
      imap(bob, 'first'),
      (error: { authenticationFailed?: boolean }) => error.authenticationFailed === true,
    );
    (await imap(bob, 'second')).close();
  });

  it('empties a mailbox between tests', async () => {
    await send('sender@nodkim.test', `to clear ${run}`);
    await fetchBySubject(`to clear ${run}`);
    await clearMailbox(alice);
    const client = await imap();
    const status = await client.status('INBOX', { messages: true });
    assert.ok(status);
    assert.equal(status.messages, 0);
  });

  it('offers no STARTTLS on the plain port, and the self-signed certificate on the TLS ones', async () => {
    const plain = await imap();
    assert.equal(plain.capabilities.has('STARTTLS'), false);
    const ca = readFileSync(testMailServices.tlsCertificatePath);
    const { host, port } = testMailServices.imaps;
    const untrusting = new ImapFlow({ host, port, secure: true, auth: { user: alice, pass: PASSWORD }, logger: false });
    await assert.rejects(untrusting.connect(), /self[- ]signed certificate/i);
    const trusting = new ImapFlow({
      host,
      port,
      secure: true,
      tls: { ca },
      auth: { user: alice, pass: PASSWORD },
      logger: false,
    });
    await trusting.connect();
    imaps.push(trusting);
    const upgrading = new ImapFlow({
      ...testMailServices.imapStartTls,
      secure: false,
      doSTARTTLS: true,
      tls: { ca },
      auth: { user: alice, pass: PASSWORD },
      logger: false,
    });
    await upgrading.connect();
    imaps.push(upgrading);
    assert.equal(upgrading.secureConnection, true);
  });

  it('refuses connections while the SMTP server is stopped, and delivers again once it is started', async () => {
    await stopMailService('smtp');
    try {
      await assert.rejects(send('sender@nodkim.test', `outage ${run}`), { code: 'ESOCKET' });
    } finally {
      await startMailService('smtp');
    }
    await send('sender@nodkim.test', `after outage ${run}`);
    await fetchBySubject(`after outage ${run}`);
  });

  describe('DNS records and mailauth', () => {
    afterEach(() => setExtraDnsTxtRecords({}));

    it('answers a TXT record a test adds, after a restart of the DNS server alone, until it is removed', async () => {
      const name = `_dmarc.quarantine-${process.pid}.test`;
      await setExtraDnsTxtRecords({ [name]: 'v=DMARC1; p=quarantine' });
      assert.deepEqual(await testDnsResolver().resolveTxt(name), [['v=DMARC1; p=quarantine']]);
      await setExtraDnsTxtRecords({});
      await assert.rejects(testDnsResolver().resolveTxt(name), { code: 'ENOTFOUND' });
    });

    it('publishes each DKIM key in TXT strings of at most 255 bytes', async () => {
      const records = await testDnsResolver().resolveTxt(`${testMailServices.dkimSelector}._domainkey.pass.test`);
      const [strings = [], ...more] = records;
      assert.equal(more.length, 0);
      assert.ok(strings.length > 1 && strings.every((s) => s.length <= 255), JSON.stringify(strings));
      assert.match(strings.join(''), /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/);
    });

    /** mailauth's verdicts on a message from `from`, sent through the local SMTP server and read back over IMAP. */
    async function verdict(from: string, dkim?: ReturnType<typeof dkimKey>) {
      await send(from, `auth ${from} ${run}`, dkim);
      const { source } = await fetchBySubject(`auth ${from} ${run}`);
      // The client's address and HELO from the topmost Received header, the sender from Return-Path.
      const result = await authenticate(source, {
        trustReceived: true,
        resolver: mailauthResolver(),
        mta: 'switchboard.test',
      });
      const signature = result.dkim.results[0];
      return {
        dkim: signature ? signature.status.result : 'none',
        dkimDomain: signature ? signature.signingDomain : undefined,
        spf: result.spf ? result.spf.status.result : 'none',
        dmarc: result.dmarc ? result.dmarc.status.result : 'none',
        policy: result.dmarc ? result.dmarc.policy : undefined,
      };
    }

    it('passes DKIM, SPF and DMARC for mail signed with the pass.test key from loopback', async () => {
      assert.deepEqual(await verdict('news@pass.test', dkimKey('pass.test')), {
        dkim: 'pass',
        dkimDomain: 'pass.test',
        spf: 'pass',
        dmarc: 'pass',
        policy: 'reject',
      });
    });

    it('passes DMARC for nodkim.test on SPF alone', async () => {
      const result = await verdict('news@nodkim.test');
      assert.deepEqual([result.dkim, result.spf, result.dmarc], ['none', 'pass', 'pass']);
    });

    it('fails SPF and DMARC, with the policy reject, for spffail.test from loopback', async () => {
      const result = await verdict('billing@spffail.test');
      assert.deepEqual([result.spf, result.dmarc, result.policy], ['fail', 'fail', 'reject']);
    });

    it('verifies our own outbound mail signed with the support.test key', async () => {
      const result = await verdict('help@support.test', dkimKey('support.test'));
      assert.deepEqual([result.dkim, result.dkimDomain, result.dmarc], ['pass', 'support.test', 'pass']);
    });
  });
});
