// Email benchmark (issue 11), with the product's own API and worker processes, its own Temporal dev server, real
// PostgreSQL, and the real mail servers of scripts/mail-services.sh (Dovecot, OpenSMTPD, dnsmasq) on ports of its own:
//   ingest:   a mailbox preloaded with BENCH_INGEST (5,000) small mails from 100 customers (threads of five, each
//             reply carrying In-Reply-To and References, DKIM-signed), against the ceiling of a plain imapflow FETCH
//             of every message's source from the same mailbox: the mailbox integration is created and timed until
//             every message has its email_inbound row;
//   latency:  BENCH_LATENCY (100) mails sent over SMTP at BENCH_LATENCY_RATE (5) a second to a mailbox the reader
//             is IDLE on: send → its ticket_emails row's created_at (the database's clock, on this machine);
//   outbound: BENCH_OUTBOUND (500) public agent comments across the ingested tickets until every outbound row is
//             `sent`, against a plain nodemailer pooled transport (5 connections, as the product's) sending as many
//             similar mails to the same SMTP server; then as many replies again written while the worker is down,
//             timed from the worker's start until sent (the email path without the API's acceptance of comments).
// Targets: latency p99 under 5 s; ingest ≥ 50 messages/s and ≥ 30% of the raw fetch; outbound ≥ 50% of the plain
// nodemailer loop. The worker's and the API's CPU seconds per phase say where the time goes.
//
// Run: npm run bench -- email. BENCH_LOG_DIR keeps the processes' output.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { repoRoot, type Started } from './lib/processes.ts';
import { apiClient, benchStack } from './lib/stack.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const INGEST = Number(process.env.BENCH_INGEST ?? 5000);
const LATENCY = Number(process.env.BENCH_LATENCY ?? 100);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 5);
const OUTBOUND = Number(process.env.BENCH_OUTBOUND ?? 500);
const CUSTOMERS = 100;
const THREAD = 5;
const PASSWORD = 'bench-mail-password';
const HOST = '127.0.0.1';
// Ports of the benchmark's own, so a developer's servers (2525, 1143, …) and the tests' (2535, 1153, …) are untouched.
const MAIL = { smtp: 2565, imap: 1183, imapStartTls: 1184, imaps: 2033, lmtp: 2464, dns: 5340 };
const MAIL_DIR = join(repoRoot, '.data/bench-mail');

function mailServices(...args: string[]): string {
  return execFileSync('bash', [join(repoRoot, 'scripts/mail-services.sh'), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    input: args[0] === 'add-user' ? `${PASSWORD}\n` : undefined,
    encoding: 'utf8',
    env: {
      ...process.env,
      MAIL_DIR,
      MAIL_SMTP_PORT: String(MAIL.smtp),
      MAIL_IMAP_PORT: String(MAIL.imap),
      MAIL_IMAP_STARTTLS_PORT: String(MAIL.imapStartTls),
      MAIL_IMAPS_PORT: String(MAIL.imaps),
      MAIL_LMTP_PORT: String(MAIL.lmtp),
      MAIL_DNS_PORT: String(MAIL.dns),
    },
  });
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const customer = (i: number) => `customer${String(i).padStart(3, '0')}@pass.test`;
const perSecond = (count: number, ms: number) => count / (ms / 1000);
const rate = (count: number, ms: number) => perSecond(count, ms).toFixed(1);
const topics = [
  ['My order has not arrived', 'I ordered a desk lamp two weeks ago and the tracking page has not moved since.'],
  ['Invoice shows the wrong VAT number', 'Our VAT number on the March invoice is missing a digit; please reissue.'],
  ['Cannot log in after password reset', 'The reset link works, but the new password is refused at sign-in.'],
  ['Question about the annual plan', 'If we switch to the annual plan mid-month, is the remainder credited?'],
] as const;

async function main() {
  const stack = benchStack('email', { api: 3091, temporal: 7291, temporalUi: 8291 });
  Object.assign(stack.env, {
    EMAIL_ALLOW_CIDRS: '127.0.0.0/8',
    EMAIL_ALLOW_INSECURE: '1',
    EMAIL_DNS_SERVERS: `${HOST}:${MAIL.dns}`,
  });
  console.log(
    `email benchmark: ingest ${INGEST} preloaded, latency ${LATENCY} at ${LATENCY_RATE}/s, outbound ${OUTBOUND}; ` +
      `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  mailServices('start');
  const run = Date.now().toString(36);
  const bulk = `bulk-${run}@support.test`;
  const desk = `desk-${run}@support.test`;
  for (const address of [bulk, desk, ...Array.from({ length: CUSTOMERS }, (_, i) => customer(i))])
    mailServices('add-user', address);
  const dkim = {
    domainName: 'pass.test',
    keySelector: 'switchboard',
    privateKey: readFileSync(join(MAIL_DIR, 'dkim/pass.test.switchboard.pem'), 'utf8'),
  };

  await stack.prepare();
  const pool = stack.pool();
  let api: Started | undefined;
  let worker: Started | undefined;
  const rows: Array<Array<string | number>> = [];
  const notes: string[] = [];
  try {
    api = await stack.startApi();
    worker = await stack.startWorker();
    const call = apiClient(stack.baseUrl, await stack.apiKey());
    const cpu = () => ({ worker: cpuSeconds(worker!.child.pid!), api: cpuSeconds(api!.child.pid!) });
    const cpuSince = (before: ReturnType<typeof cpu>) => {
      const now = cpu();
      return `worker ${(now.worker - before.worker).toFixed(1)} s CPU, API ${(now.api - before.api).toFixed(1)} s`;
    };
    const createMailbox = (address: string) =>
      call<{ id: string }>(
        'POST',
        '/api/integrations',
        {
          integrationType: 'email',
          name: `Bench ${address}`,
          config: {
            address,
            fromName: 'Acme Support',
            imap: { host: HOST, port: MAIL.imap, security: 'none', username: address, pollIntervalSeconds: 5 },
            smtp: { host: HOST, port: MAIL.smtp, security: 'none' },
          },
          credentials: { imapPassword: PASSWORD },
        },
        201,
      );
    const inboundCount = async (integrationId: string) =>
      (await pool.query('select count(*)::int as n from email_inbound where integration_id = $1', [integrationId]))
        .rows[0].n as number;

    // --- ingest ----------------------------------------------------------------------------------------------------
    // Preloaded over LMTP straight into Dovecot, a thread's messages in order (round by round), so a reply always has
    // a higher UID than what it answers (its original is in the mailbox, and filed, first).
    const lmtp = nodemailer.createTransport({ host: HOST, port: MAIL.lmtp, lmtp: true, pool: true, maxConnections: 4 });
    const threads = INGEST / THREAD;
    let preloadMs = performance.now();
    for (let round = 0; round < THREAD; round++) {
      await Promise.all(
        Array.from({ length: threads }, (_, t) => {
          const [subject, text] = topics[t % topics.length]!;
          const from = customer(t % CUSTOMERS);
          const id = (r: number) => `<bench-${run}-${t}-${r}@pass.test>`;
          const earlier = Array.from({ length: round }, (_, r) => id(r));
          return lmtp.sendMail({
            from,
            to: bulk,
            subject: round === 0 ? subject : `Re: ${subject}`,
            text: `Hello,\n\n${text}\n\n${round > 0 ? `(follow-up ${round})\n\n` : ''}Thanks,\n${from.split('@')[0]}`,
            messageId: id(round),
            ...(round > 0 ? { inReplyTo: earlier.at(-1)!, references: earlier } : {}),
            dkim,
          });
        }),
      );
      // Dovecot numbers maildir mail when the mailbox is next synced, in directory order: a sync after each round
      // gives every reply a higher UID than what it answers, as a mailbox receiving them over time would.
      mailServices('doveadm', 'mailbox', 'status', '-u', bulk, 'uidnext', 'INBOX');
    }
    lmtp.close();
    preloadMs = performance.now() - preloadMs;

    const raw = new ImapFlow({
      host: HOST,
      port: MAIL.imap,
      secure: false,
      doSTARTTLS: false,
      auth: { user: bulk, pass: PASSWORD },
      logger: false,
    });
    const rawStarted = performance.now();
    await raw.connect();
    await raw.mailboxOpen('INBOX');
    let rawCount = 0;
    let rawBytes = 0;
    for await (const message of raw.fetch('1:*', { uid: true, source: true })) {
      rawCount++;
      rawBytes += message.source?.length ?? 0;
    }
    const rawMs = performance.now() - rawStarted;
    await raw.logout();
    if (rawCount !== INGEST) throw new Error(`the preloaded mailbox holds ${rawCount} messages, not ${INGEST}`);
    console.log(
      `preloaded ${INGEST} messages (${(rawBytes / INGEST / 1024).toFixed(1)} KB each) over LMTP in ` +
        `${formatMs(preloadMs)} ms; plain imapflow fetch of every source: ${formatMs(rawMs)} ms`,
    );

    let before = cpu();
    const ingestStarted = performance.now();
    const bulkMailbox = await createMailbox(bulk);
    let firstRowMs = 0;
    for (let last = -1, stalled = performance.now(); ; ) {
      const n = await inboundCount(bulkMailbox.id);
      if (n > 0 && !firstRowMs) firstRowMs = performance.now() - ingestStarted;
      if (n >= INGEST) break;
      if (n !== last) [last, stalled] = [n, performance.now()];
      else if (performance.now() - stalled > 60_000) throw new Error(`ingest stalled at ${n} of ${INGEST}`);
      await sleep(100);
    }
    const ingestMs = performance.now() - ingestStarted;
    const ingestCpu = cpuSince(before);
    const { rows: ingestRows } = await pool.query(
      `select count(distinct ticket_id)::int as tickets, count(*) filter (where status = 'ingested')::int as ingested
         from email_inbound where integration_id = $1`,
      [bulkMailbox.id],
    );
    rows.push([
      `ingest ${INGEST} preloaded (product)`,
      formatMs(ingestMs),
      `${rate(INGEST, ingestMs)} msg/s`,
      `${((rawMs / ingestMs) * 100).toFixed(1)}% of the raw fetch`,
    ]);
    rows.push([`plain imapflow FETCH of every source`, formatMs(rawMs), `${rate(INGEST, rawMs)} msg/s`, '']);
    notes.push(
      `ingest: ${ingestRows[0].ingested} ingested onto ${ingestRows[0].tickets} tickets; first row after ` +
        `${formatMs(firstRowMs)} ms; ${ingestCpu}`,
    );

    // --- latency: new mail → ticket thread, the reader IDLE ---------------------------------------------------------
    const deskMailbox = await createMailbox(desk);
    const smtp = nodemailer.createTransport({
      host: HOST,
      port: MAIL.smtp,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 2,
      name: 'pass.test',
    });
    const sendToDesk = (i: number) =>
      smtp.sendMail({
        from: customer(i % CUSTOMERS),
        to: desk,
        subject: `Latency probe ${i}`,
        text: `Hello,\n\nthis is message ${i} of the latency run.\n\nThanks`,
        messageId: `<latency-${run}-${i}@pass.test>`,
        dkim,
      });
    const rowCreated = async (messageId: string): Promise<number | null> => {
      const { rows: found } = await pool.query(
        `select extract(epoch from created_at) * 1000 as at from ticket_emails where message_id = $1`,
        [messageId],
      );
      return found[0] ? Number(found[0].at) : null;
    };
    // One untimed mail: the reader has connected, filed it, and gone back to IDLE.
    await sendToDesk(-1);
    while ((await rowCreated(`latency-${run}--1@pass.test`)) === null) await sleep(100);
    await sleep(1000);
    before = cpu();
    const sentAt: number[] = [];
    const sends: Array<Promise<unknown>> = [];
    const latencyStarted = Date.now();
    for (let i = 0; i < LATENCY; i++) {
      const due = latencyStarted + (i * 1000) / LATENCY_RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      sentAt[i] = Date.now();
      sends.push(sendToDesk(i));
    }
    await Promise.all(sends);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY; i++) {
      const deadline = Date.now() + 60_000;
      let created = await rowCreated(`latency-${run}-${i}@pass.test`);
      while (created === null && Date.now() < deadline) {
        await sleep(100);
        created = await rowCreated(`latency-${run}-${i}@pass.test`);
      }
      if (created === null) throw new Error(`latency mail ${i} never reached a ticket`);
      latencies.push(created - sentAt[i]!);
    }
    smtp.close();
    rows.push([
      `new mail → ticket thread, IDLE (${LATENCY} at ${LATENCY_RATE}/s)`,
      `p50 ${formatMs(median(latencies))}`,
      `p99 ${formatMs(percentile(latencies, 99))}`,
      `max ${formatMs(Math.max(...latencies))}`,
    ]);
    notes.push(`latency: ${cpuSince(before)} for ${LATENCY} mails (mailbox ${deskMailbox.id})`);

    // --- outbound: agent replies until sent, against a plain nodemailer pool ----------------------------------------
    const { rows: tickets } = await pool.query(
      `select distinct ticket_id as id from email_inbound where integration_id = $1 and ticket_id is not null
        limit $2`,
      [bulkMailbox.id, OUTBOUND],
    );
    const targets = Array.from({ length: OUTBOUND }, (_, i) => tickets[i % tickets.length]!.id as string);
    before = cpu();
    const outboundStarted = performance.now();
    for (let i = 0; i < targets.length; i += 20) {
      await Promise.all(
        targets.slice(i, i + 20).map((id, j) =>
          call(
            'POST',
            `/api/tickets/${id}/comments`,
            {
              body: `Thanks for writing in. We have looked into this (reply ${i + j}) and fixed it on our side.`,
              isPublic: true,
            },
            201,
          ),
        ),
      );
    }
    const acceptedMs = performance.now() - outboundStarted;
    // A send that hangs holds its ticket's thread until the activity's start-to-close timeout (5 minutes): after
    // 30 s without progress the run reports the rate of what was sent and how many were still waiting.
    /**
     * Waits until `OUTBOUND` more rows than `before` are sent, or 30 s pass without one more: how many were sent and
     * when the last of them was seen.
     */
    const waitForSent = async (before: number) => {
      let count = 0;
      let at = performance.now();
      for (;;) {
        const { rows: counts } = await pool.query(
          `select count(*) filter (where status = 'sent')::int as sent, count(*) filter (where status = 'failed')::int
             as failed from ticket_emails where direction = 'outbound' and integration_id = $1`,
          [bulkMailbox.id],
        );
        if (counts[0].failed > 0) throw new Error(`${counts[0].failed} outbound emails failed`);
        if (counts[0].sent - before !== count) [count, at] = [counts[0].sent - before, performance.now()];
        if (count >= OUTBOUND || performance.now() - at > 30_000) return { count, at };
        await sleep(100);
      }
    };
    const { count: sent, at: sentAtMs } = await waitForSent(0);
    const outboundMs = sentAtMs - outboundStarted;
    if (sent < OUTBOUND)
      notes.push(`outbound: ${OUTBOUND - sent} of ${OUTBOUND} still not sent 30 s after the last send`);
    // Where a reply's time goes: comment → its queued row (relay, the thread workflow's start, the queue activity),
    // queued → sent (the workflow's next activities and the SMTP conversation).
    const { rows: stages } = await pool.query(
      `select percentile_cont(0.5) within group (order by extract(epoch from e.created_at - c.created_at) * 1000)
                as queued_ms,
              percentile_cont(0.5) within group (order by extract(epoch from e.sent_at - e.created_at) * 1000)
                as sent_ms
         from ticket_emails e join ticket_comments c on c.id = e.comment_id
        where e.direction = 'outbound' and e.integration_id = $1`,
      [bulkMailbox.id],
    );
    notes.push(
      `outbound: ${OUTBOUND} comments accepted by the API in ${formatMs(acceptedMs)} ms; median comment → queued ` +
        `${formatMs(Number(stages[0].queued_ms))} ms, queued → sent ${formatMs(Number(stages[0].sent_ms))} ms; ` +
        cpuSince(before),
    );

    // --- outbound backlog: the email path alone, without the API's acceptance of the comments ------------------------
    // The same number of replies written while the worker is down (the API writes each comment and its event; the
    // relay runs in the worker), then the clock runs from the worker's start (its relay starts with it) until every
    // one is sent: relay → outbox workflow → queue and send, against the plain loop below, which also starts with
    // its mails in hand.
    await worker.stop();
    worker = undefined;
    const commentsAt = performance.now();
    for (let i = 0; i < targets.length; i += 20) {
      await Promise.all(
        targets
          .slice(i, i + 20)
          .map((id, j) =>
            call(
              'POST',
              `/api/tickets/${id}/comments`,
              { body: `A second reply (${i + j}): the replacement ships today.`, isPublic: true },
              201,
            ),
          ),
      );
    }
    const backlogWrittenMs = performance.now() - commentsAt;
    worker = await stack.startWorker();
    const backlogStarted = performance.now();
    const backlogCpu = cpu();
    const { count: backlogSent, at: backlogSentAt } = await waitForSent(sent);
    const backlogMs = backlogSentAt - backlogStarted;
    if (backlogSent < OUTBOUND)
      notes.push(`outbound backlog: ${OUTBOUND - backlogSent} of ${OUTBOUND} still not sent 30 s after the last send`);
    notes.push(
      `outbound backlog: ${OUTBOUND} comments written with the worker down in ${formatMs(backlogWrittenMs)} ms; ` +
        `from the worker's start: ${cpuSince(backlogCpu)}`,
    );

    const plain = nodemailer.createTransport({
      host: HOST,
      port: MAIL.smtp,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 5,
      name: 'support.test',
    });
    const plainStarted = performance.now();
    await Promise.all(
      Array.from({ length: OUTBOUND }, (_, i) =>
        plain.sendMail({
          from: `"Acme Support" <${bulk}>`,
          to: customer(i % CUSTOMERS),
          replyTo: bulk.replace('@', '+abcdefghijklmnopqrstuvwxyz234567abcdefghij@'),
          subject: `Re: [#${i + 1}] My order has not arrived`,
          text: `Thanks for writing in. We have looked into this (reply ${i}) and fixed it on our side.`,
          html: `<!doctype html><html><body><p>Thanks for writing in. We have looked into this (reply ${i}) and fixed it on our side.</p></body></html>`,
          messageId: `<plain-${run}-${i}@support.test>`,
          inReplyTo: `<bench-${run}-${i}-0@pass.test>`,
          references: [`<bench-${run}-${i}-0@pass.test>`],
        }),
      ),
    );
    const plainMs = performance.now() - plainStarted;
    plain.close();
    rows.push([
      `outbound ${OUTBOUND} agent replies → sent (product)`,
      formatMs(outboundMs),
      `${rate(sent, outboundMs)} sends/s`,
      `${((perSecond(sent, outboundMs) / perSecond(OUTBOUND, plainMs)) * 100).toFixed(1)}% of plain nodemailer`,
    ]);
    rows.push([
      `outbound ${OUTBOUND} replies already written → sent (product, from the worker's start)`,
      formatMs(backlogMs),
      `${rate(backlogSent, backlogMs)} sends/s`,
      `${((perSecond(backlogSent, backlogMs) / perSecond(OUTBOUND, plainMs)) * 100).toFixed(1)}% of plain nodemailer`,
    ]);
    rows.push([`plain nodemailer pool (5 connections)`, formatMs(plainMs), `${rate(OUTBOUND, plainMs)} sends/s`, '']);

    printTable(['', 'ms', 'rate', 'ratio'], rows);
    for (const line of notes) console.log(line);
    console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  } finally {
    await pool.end();
    await worker?.stop();
    await api?.stop();
    stack.stopTemporal();
  }
}

await main();
