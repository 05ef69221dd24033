// The IMAP side of a mailbox: one activity call connects, checks UIDVALIDITY, ingests every message past the last
// UID (size first, so an oversized message is refused without downloading it), marks each processed (flag or move),
// then waits in IDLE, or polls where the server has no IDLE, ingesting whatever arrives, until its time is up. It
// heartbeats its position after each chunk of messages (their sources come in one FETCH), so a retry after a killed
// worker resumes there; ingest is idempotent by Message-ID, so whatever it repeats is not doubled.

import { emailInbound } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, inArray } from 'drizzle-orm';
import type { ImapFlow } from 'imapflow';
import type { KeyRing } from '../../common/config.ts';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import { normalizeMessageId } from '../../common/email/message-id.ts';
import { onFirstUse } from '../../common/lazy-module.ts';
import type { EmailCredentials } from '../../domain/email/config.ts';
import { loadMailbox, mailboxContext } from '../../domain/email/mailboxes.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import type { EmailSettings } from '../../packages/integrations/email/settings.ts';
import { connectTarget, describeMailError } from './connect.ts';
import {
  filePrepared,
  type IngestDeps,
  type IngestResult,
  ingestRaw,
  type PreparedInbound,
  prepareInbound,
  refuseUnfetched,
} from './ingest.ts';

/** The IMAP client: loaded by the first mailbox read, in the worker (common/lazy-module.ts). */
const loadImapFlow = onFirstUse(() => import('imapflow'));

export type MailboxPosition = { uidValidity: string | null; lastUid: number };

export type PollMailboxInput = MailboxPosition & { organizationId: string; integrationId: string };

export type PollMailboxResult =
  | ({ kind: 'polled'; ingested: number; refused: number; held: number; duplicates: number; resynced: boolean } & {
      uidValidity: string;
      lastUid: number;
    })
  /** The mailbox was switched off, deleted, or has no IMAP settings: its workflow ends. */
  | { kind: 'stopped'; reason: string };

export type MailboxDeps = IngestDeps & { credentialKeys: KeyRing; settings: EmailSettings };

/** Our keyword on processed mail, beside \Seen: a person reading the mailbox sees what the desk has taken in. */
export const processedFlag = '$Switchboard';

export function createMailboxActivities(deps: MailboxDeps) {
  return {
    async pollMailbox(input: PollMailboxInput): Promise<PollMailboxResult> {
      const mailbox = await loadMailbox(deps.db, input.organizationId, input.integrationId).catch(() => null);
      if (!mailbox) return { kind: 'stopped', reason: 'the email integration was deleted' };
      if (!mailbox.isActive) return { kind: 'stopped', reason: 'the email integration is switched off' };
      const imap = mailbox.config.imap;
      if (!imap) return { kind: 'stopped', reason: 'the email integration has no IMAP settings' };

      const context = Context.current();
      // A retry resumes where the killed attempt heartbeated, not where the workflow last heard.
      const resumed = context.info.heartbeatDetails as MailboxPosition | undefined;
      const position: MailboxPosition = resumed ?? { uidValidity: input.uidValidity, lastUid: input.lastUid };
      const credentials = (await loadIntegrationCredentials(
        deps.db,
        deps.credentialKeys,
        mailbox.organizationId,
        mailbox.integrationId,
      )) as EmailCredentials | null;
      const ingestContext = await mailboxContext(deps.db, deps.credentialKeys, mailbox, 'imap');
      const counts = { ingested: 0, refused: 0, held: 0, duplicates: 0 };
      const count = (result: IngestResult) => {
        if (result.status === 'ingested') counts.ingested++;
        else if (result.status === 'refused') counts.refused++;
        else if (result.status === 'held') counts.held++;
        else counts.duplicates++;
      };

      let client: ImapFlow | undefined;
      const heartbeat = setInterval(() => context.heartbeat(position), 5_000);
      try {
        const target = await connectTarget(imap, deps.settings, 'IMAP');
        const { ImapFlow } = await loadImapFlow();
        client = new ImapFlow({
          host: target.address,
          port: imap.port,
          secure: imap.security === 'tls',
          ...(imap.security === 'starttls' ? { doSTARTTLS: true } : {}),
          ...(imap.security === 'none' ? { doSTARTTLS: false } : {}),
          servername: target.servername,
          tls: { servername: target.servername },
          auth: { user: imap.username, pass: credentials?.imapPassword ?? '' },
          logger: false,
          disableAutoIdle: true,
          connectionTimeout: deps.settings.timeoutMs,
          greetingTimeout: deps.settings.timeoutMs,
          socketTimeout: Math.max(deps.settings.timeoutMs, (deps.settings.idleSeconds + 60) * 1000),
        });
        client.on('error', () => undefined);
        await client.connect();
        const opened = await client.mailboxOpen(imap.mailbox);
        const uidValidity = String(opened.uidValidity);
        let resynced = false;
        if (position.uidValidity !== null && position.uidValidity !== uidValidity) {
          // The server renumbered the mailbox: old UIDs mean nothing. Every message is looked up by Message-ID and
          // the ones this mailbox has never filed are ingested; then the position starts again from the new UIDs.
          position.lastUid = await resync(deps, client, ingestContext, count);
          resynced = true;
        }
        position.uidValidity = uidValidity;
        context.heartbeat(position);
        await recordIntegrationOutcome(deps.db, mailbox.organizationId, mailbox.integrationId, { ok: true });

        const deadline = Date.now() + deps.settings.idleSeconds * 1000;
        const canIdle = client.capabilities.has('IDLE');
        while (!context.cancellationSignal.aborted) {
          const fetched = await ingestNew(deps, client, ingestContext, position, imap, count, () =>
            context.heartbeat(position),
          );
          if (fetched > 0 && Date.now() < deadline) continue;
          if (Date.now() >= deadline) break;
          await waitForMail(client, canIdle, Math.min(deadline - Date.now(), imap.pollIntervalSeconds * 1000), context);
        }
        return { kind: 'polled', uidValidity, lastUid: position.lastUid, resynced, ...counts };
      } catch (error) {
        if (context.cancellationSignal.aborted) throw error;
        const described = describeMailError(error, 'IMAP', imap.host);
        await recordIntegrationOutcome(deps.db, mailbox.organizationId, mailbox.integrationId, {
          ok: false,
          error: `${described.message}; retrying with backoff (attempt ${context.info.attempt})`,
        });
        throw ApplicationFailure.create({
          type: described.type,
          message: described.message,
          nonRetryable: false,
          details: [position],
        });
      } finally {
        clearInterval(heartbeat);
        await client?.logout().catch(() => client?.close());
      }
    },
  };
}
export type MailboxActivities = ReturnType<typeof createMailboxActivities>;

/** Sources come in one FETCH up to this many bytes (a larger message alone): few round trips, bounded memory. */
const SOURCE_CHUNK_BYTES = 8 * 1024 * 1024;
/** Messages parsed and authenticated ahead of the one being filed. */
const PREPARE_AHEAD = 4;

/** Ingests the messages past `position.lastUid`, a batch at most; returns how many it looked at. */
async function ingestNew(
  deps: MailboxDeps,
  client: ImapFlow,
  mailbox: Awaited<ReturnType<typeof mailboxContext>>,
  position: MailboxPosition,
  imap: NonNullable<Awaited<ReturnType<typeof loadMailbox>>['config']['imap']>,
  count: (result: IngestResult) => void,
  heartbeat: () => void,
): Promise<number> {
  // UID SEARCH answers with numbers only, so a long backlog costs little per round; a FETCH of `n:*` would carry
  // every waiting message's envelope each round (quadratic over a preloaded mailbox). `n:*` always includes the last
  // message even when its UID is below n (RFC 3501), hence the filter.
  const uids = ((await client.search({ uid: `${position.lastUid + 1}:*` }, { uid: true })) || [])
    .filter((uid) => uid > position.lastUid)
    .sort((a, b) => a - b)
    .slice(0, deps.settings.fetchBatch);
  if (uids.length === 0) return 0;
  const pending = (
    await client.fetchAll(uids.join(','), { uid: true, size: true, envelope: true, flags: true }, { uid: true })
  ).sort((a, b) => a.uid - b.uid);
  const wanted = (message: (typeof pending)[number]) =>
    !message.flags?.has(processedFlag) && (message.size ?? 0) <= deps.maxMessageBytes;

  for (let next = 0; next < pending.length; ) {
    const chunk = [pending[next++]!];
    let bytes = wanted(chunk[0]!) ? (chunk[0]!.size ?? 0) : 0;
    while (next < pending.length) {
      const size = wanted(pending[next]!) ? (pending[next]!.size ?? 0) : 0;
      if (bytes + size > SOURCE_CHUNK_BYTES) break;
      bytes += size;
      chunk.push(pending[next++]!);
    }
    // One FETCH for the chunk's sources instead of one per message (a round trip each).
    const fetchUids = chunk.filter(wanted).map((message) => message.uid);
    const sources = new Map<number, Buffer>();
    if (fetchUids.length > 0) {
      for (const full of await client.fetchAll(fetchUids.join(','), { uid: true, source: true }, { uid: true }))
        if (full.source) sources.set(full.uid, full.source);
    }
    // Parsing and the DKIM/SPF/DMARC lookups of the next few messages run while one is filed (in UID order, so a
    // reply still finds the ticket its original opened): the round trips to DNS overlap those to the database.
    const order = chunk.filter((message) => sources.has(message.uid)).map((message) => message.uid);
    const preparing = new Map<number, Promise<PreparedInbound>>();
    const prepareUpTo = (count: number) => {
      for (let k = preparing.size; k < Math.min(count, order.length); k++) {
        const prepared = prepareInbound(deps, sources.get(order[k]!)!);
        // Awaited in turn below; this keeps a failure from being unhandled while an earlier message is filed.
        prepared.catch(() => undefined);
        preparing.set(order[k]!, prepared);
      }
    };
    let filed = 0;
    const processed: number[] = [];
    for (const message of chunk) {
      // Filed by an earlier run (a mailbox switched off and on starts from the first UID again): the flag is set only
      // after the message is in the ledger, so a flagged message needs nothing more.
      if (message.flags?.has(processedFlag)) continue;
      const size = message.size ?? 0;
      if (size > deps.maxMessageBytes) {
        count(
          await refuseUnfetched(deps.db, mailbox, {
            messageId: message.envelope?.messageId
              ? normalizeMessageId(message.envelope.messageId)
              : `uid-${position.uidValidity}-${message.uid}@switchboard.invalid`,
            size,
            maxBytes: deps.maxMessageBytes,
            ...(message.envelope?.from?.[0]?.address ? { from: message.envelope.from[0].address } : {}),
            ...(message.envelope?.subject ? { subject: message.envelope.subject } : {}),
          }),
        );
      } else {
        // Expunged between the two fetches: nothing to file.
        if (sources.has(message.uid)) {
          prepareUpTo(++filed + PREPARE_AHEAD);
          count(await filePrepared(deps, mailbox, await preparing.get(message.uid)!));
        }
      }
      processed.push(message.uid);
    }
    // Marked once the chunk is in the ledger, in one command; the position moves past the chunk only then, so a
    // retry after a crash mid-chunk files it again (ingest is idempotent) and marks it.
    if (processed.length > 0) {
      if (imap.afterIngest === 'move' && imap.moveTo)
        await client.messageMove(processed.join(','), imap.moveTo, { uid: true });
      else await client.messageFlagsAdd(processed.join(','), ['\\Seen', processedFlag], { uid: true });
    }
    position.lastUid = chunk.at(-1)!.uid;
    heartbeat();
  }
  return pending.length;
}

/** After a UIDVALIDITY change: files the messages whose Message-ID the mailbox has not seen; returns the last UID. */
async function resync(
  deps: MailboxDeps,
  client: ImapFlow,
  mailbox: Awaited<ReturnType<typeof mailboxContext>>,
  count: (result: IngestResult) => void,
): Promise<number> {
  const all = await client.fetchAll('1:*', { uid: true, envelope: true, size: true }, { uid: true });
  const idOf = (m: (typeof all)[number]) => (m.envelope?.messageId ? normalizeMessageId(m.envelope.messageId) : null);
  const ids = all.map(idOf).filter((id): id is string => !!id);
  const seen = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await deps.db
      .select({ messageId: emailInbound.messageId })
      .from(emailInbound)
      .where(
        and(
          eq(emailInbound.integrationId, mailbox.integrationId),
          inArray(emailInbound.messageId, ids.slice(i, i + 1000)),
        ),
      );
    for (const row of rows) seen.add(row.messageId);
  }
  let last = 0;
  for (const message of all.sort((a, b) => a.uid - b.uid)) {
    last = Math.max(last, message.uid);
    const id = idOf(message);
    if (id && seen.has(id)) continue;
    if ((message.size ?? 0) > deps.maxMessageBytes) {
      count(
        await refuseUnfetched(deps.db, mailbox, {
          messageId: id ?? `resync-${message.uid}@switchboard.invalid`,
          size: message.size ?? 0,
          maxBytes: deps.maxMessageBytes,
        }),
      );
      continue;
    }
    const full = await client.fetchOne(String(message.uid), { source: true }, { uid: true });
    if (full !== false && full.source) count(await ingestRaw(deps, mailbox, full.source));
  }
  return last;
}

/** Until new mail is announced (IDLE) or the poll interval passes; NOOP makes a server without IDLE report it. */
async function waitForMail(client: ImapFlow, canIdle: boolean, waitMs: number, context: Context): Promise<void> {
  if (waitMs <= 0) return;
  let done!: () => void;
  const woken = new Promise<void>((resolve) => {
    done = resolve;
  });
  const onExists = () => done();
  const onCancel = () => done();
  client.on('exists', onExists);
  context.cancellationSignal.addEventListener('abort', onCancel);
  const timer = setTimeout(done, waitMs);
  try {
    if (canIdle) {
      const idling = client.idle().catch(() => undefined);
      await woken;
      // Any command ends IDLE; NOOP is the cheapest.
      await client.noop();
      await idling;
    } else {
      await woken;
      await client.noop();
    }
  } finally {
    clearTimeout(timer);
    client.off('exists', onExists);
    context.cancellationSignal.removeEventListener('abort', onCancel);
  }
}
