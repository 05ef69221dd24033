// Which ticket an inbound message belongs to, decided from facts the ingest reads in one query. The first step that
// matches wins:
//   1. a verified reply token in a recipient address: the token is signed, so it proves the ticket by itself;
//   2. In-Reply-To naming a message of a ticket;
//   3. any References entry naming one, the most recent entry first (References lists the thread oldest first, so the
//      last entries are nearest the message being answered; when a thread was split into two tickets the newest
//      reference points at the ticket the conversation continued in);
//   4. the ticket number in the subject (`[#123]`).
// Steps 2–4 count only when the sender is a participant of that ticket (requester, or an address that sent or
// received mail on it). Headers and subjects are whatever the sender wrote: a newsletter, a mailing-list post or a
// BCC copy can carry the References of someone else's thread, and anyone can type `[#123]`. Without the check, a
// stranger's mail would land in (and be visible on) another customer's ticket. A match that fails the check is
// reported in `ignored`, so the ingest can record why the message opened a new ticket instead.
//
// Unlike Chatwoot (#10028: only In-Reply-To, so a reply to a different message of the thread opened a duplicate) and
// Zammad (#5716: References ignored), every header entry is checked.
import { isSameMailbox } from './addresses.ts';
import { normalizeMessageId, parseMessageIds } from './message-id.ts';

export type ThreadingFacts = {
  /** The From address. */
  sender: string;
  /** The ticket of a verified reply token (readReplyToken), if any. */
  tokenTicketId: string | null;
  /** The In-Reply-To header value (one id, or several, with or without angle brackets). */
  inReplyTo: string | null;
  /** References, in header order (oldest first). */
  references: string[];
  subjectTicketNumber: number | null;
  /** The known messages among messageIdsToLookUp(…) and the ticket each belongs to. */
  messages: Array<{ messageId: string; ticketId: string }>;
  /** The tickets those messages and the subject number name, with their participants. A ticket missing here (deleted,
   * another organisation's, merged away) cannot be joined by steps 2–4. */
  tickets: Array<{ ticketId: string; number: number; participants: string[] }>;
};

export type ThreadingStep = 'in-reply-to' | 'references' | 'subject';

export type ThreadingDecision =
  | { kind: 'join'; ticketId: string; by: 'token' | ThreadingStep }
  | { kind: 'new'; ignored: Array<{ by: ThreadingStep; ticketId: string; reason: string }> };

/** At most this many ids are looked up: In-Reply-To's, then the most recent References. A hostile message can carry
 * thousands of References; the newest ones are the ones that matter. */
export const MAX_MESSAGE_IDS_TO_LOOK_UP = 50;

export const NOT_A_PARTICIPANT = 'the sender is not a participant of this ticket';
export const TICKET_UNAVAILABLE = 'the ticket is not one this mailbox can add to';

/** The Message-IDs whose tickets planThreading needs (normalised, in the order the plan checks them). */
export function messageIdsToLookUp(
  inReplyTo: string | null | undefined,
  references: string | string[] | null | undefined,
): string[] {
  const ids = new Set(parseMessageIds(inReplyTo));
  for (const id of parseMessageIds(references).reverse()) ids.add(id);
  return [...ids].slice(0, MAX_MESSAGE_IDS_TO_LOOK_UP);
}

export function planThreading(facts: ThreadingFacts): ThreadingDecision {
  if (facts.tokenTicketId) return { kind: 'join', ticketId: facts.tokenTicketId, by: 'token' };

  const ticketsById = new Map(facts.tickets.map((t) => [t.ticketId, t]));
  const ticketsByMessage = new Map<string, string[]>();
  for (const m of facts.messages) {
    const id = normalizeMessageId(m.messageId);
    const list = ticketsByMessage.get(id) ?? [];
    if (!list.includes(m.ticketId)) list.push(m.ticketId);
    ticketsByMessage.set(id, list);
  }

  const ignored: Array<{ by: ThreadingStep; ticketId: string; reason: string }> = [];
  const seen = new Set<string>();
  // The ticket if the sender may join it; otherwise records why not (once per step and ticket) and returns null.
  const consider = (by: ThreadingStep, ticketId: string): string | null => {
    const ticket = ticketsById.get(ticketId);
    const reason = !ticket
      ? TICKET_UNAVAILABLE
      : ticket.participants.some((p) => isSameMailbox(p, facts.sender))
        ? null
        : NOT_A_PARTICIPANT;
    if (!reason) return ticketId;
    const key = `${by}\0${ticketId}`;
    if (!seen.has(key)) {
      seen.add(key);
      ignored.push({ by, ticketId, reason });
    }
    return null;
  };
  const byMessageIds = (by: ThreadingStep, ids: string[]): ThreadingDecision | null => {
    for (const id of ids)
      for (const ticketId of ticketsByMessage.get(id) ?? []) {
        const joined = consider(by, ticketId);
        if (joined) return { kind: 'join', ticketId: joined, by };
      }
    return null;
  };

  const inReplyTo = byMessageIds('in-reply-to', parseMessageIds(facts.inReplyTo));
  if (inReplyTo) return inReplyTo;
  const references = byMessageIds('references', parseMessageIds(facts.references).reverse());
  if (references) return references;

  if (facts.subjectTicketNumber != null) {
    const numbered = facts.tickets.filter((t) => t.number === facts.subjectTicketNumber);
    for (const ticket of numbered) {
      const joined = consider('subject', ticket.ticketId);
      if (joined) return { kind: 'join', ticketId: joined, by: 'subject' };
    }
  }
  return { kind: 'new', ignored };
}
