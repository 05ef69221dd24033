// The CPU one inbound message costs before any database or IMAP work (issue 11): what the ingest target's ceiling
// ("at least 30% of a plain imapflow fetch of the same mailbox") has to be held against. The benchmark's own kind of
// mail (1.2 KB, DKIM-signed with a 2048-bit key, a reply with In-Reply-To and References) is made in this process,
// then each message goes through the two steps every inbound message must take, timed by this thread's CPU:
//   - parseInbound (activities/email/parse.ts: mailparser, sanitised HTML, quoted-reply trimming);
//   - authenticateMessage (activities/email/authenticate.ts: mailauth's DKIM, SPF and DMARC), with DNS answered from
//     memory, so no resolver round trip is counted.
// It prints CPU per message and the most messages a second those two steps alone allow on this machine's cores, which
// bounds the ingest rate whatever the database and IMAP work cost.
//
// Run: node bench/email-floor.ts (no servers needed). BENCH_FLOOR_MESSAGES (default 2000).
import { generateKeyPairSync } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { DNSResolver } from 'mailauth';
import nodemailer from 'nodemailer';
import { authenticateMessage } from '../activities/email/authenticate.ts';
import { parseInbound } from '../activities/email/parse.ts';
import { median, printTable } from './lib/stats.ts';

const MESSAGES = Number(process.env.BENCH_FLOOR_MESSAGES ?? 2000);
const WARM = 200;

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkimRecord = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
const records: Record<string, string[][]> = {
  'switchboard._domainkey.pass.test': [[dkimRecord.slice(0, 250), dkimRecord.slice(250)]],
  'pass.test': [['v=spf1 ip4:127.0.0.1 -all']],
  '_dmarc.pass.test': [['v=DMARC1; p=reject']],
};
const resolver = (async (name: string, rrtype: string) => {
  if (rrtype === 'TXT' && records[name]) return records[name];
  throw Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' });
}) as DNSResolver;

/** User plus system CPU of this process, in ms: the steps run on this thread only. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function main() {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const messages: Buffer[] = [];
  for (let i = 0; i < MESSAGES + WARM; i++) {
    const id = (r: number) => `<floor-${i}-${r}@pass.test>`;
    const info = await transport.sendMail({
      from: `customer${i % 100}@pass.test`,
      to: 'bulk@support.test',
      subject: 'Re: The printer on the third floor prints blank pages',
      text: `Hello,\n\nThe printer still prints blank pages after the toner change.\n\n(follow-up 2)\n\nThanks,\ncustomer${i}`,
      messageId: id(2),
      inReplyTo: id(1),
      references: [id(0), id(1)],
      dkim: {
        domainName: 'pass.test',
        keySelector: 'switchboard',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      },
    });
    messages.push(info.message as Buffer);
  }
  const connection = { ip: '127.0.0.1', helo: 'localhost', mailFrom: 'customer1@pass.test' };
  const parse: number[] = [];
  const auth: number[] = [];
  for (const [i, raw] of messages.entries()) {
    let at = cpuMs();
    await parseInbound(raw);
    const parsed = cpuMs() - at;
    at = cpuMs();
    const verdict = await authenticateMessage(raw, connection, { resolver, mta: 'mx.support.test' });
    const authenticated = cpuMs() - at;
    if (i === 0 && (verdict.dkim !== 'pass' || verdict.spf !== 'pass' || verdict.dmarc !== 'pass'))
      throw new Error(`the floor must measure passing mail, got ${JSON.stringify(verdict)}`);
    if (i < WARM) continue;
    parse.push(parsed);
    auth.push(authenticated);
  }
  const both = parse.map((p, i) => p + auth[i]!);
  const cores = cpus().length;
  const size = Math.round(median(messages.map((m) => m.length)));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  console.log(
    `email floor: ${MESSAGES} messages of ~${size} bytes after ${WARM} warm-up, ${cores} cores, load average ` +
      loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
  );
  printTable(
    ['step', 'CPU ms/message, median', 'mean', 'messages/s on all cores, at most'],
    [
      [
        'parseInbound (mailparser)',
        median(parse).toFixed(3),
        mean(parse).toFixed(3),
        Math.round((cores * 1000) / mean(parse)),
      ],
      [
        'authenticateMessage (DKIM, SPF, DMARC)',
        median(auth).toFixed(3),
        mean(auth).toFixed(3),
        Math.round((cores * 1000) / mean(auth)),
      ],
      ['both', median(both).toFixed(3), mean(both).toFixed(3), Math.round((cores * 1000) / mean(both))],
    ],
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
