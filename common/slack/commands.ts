// `/ticket …`: the text Slack sends, read into a command, or into an error that says exactly what was wrong and how
// to write it. Pure, so every wording is stated in a test.
import { type TicketPriority, type TicketStatus, ticketPriorities, ticketStatuses } from '../enums.ts';

/** Who `/ticket assign` names: a Slack user (an escaped mention), the caller, or an email address. */
export type AssigneeRef = { slackUserId: string } | { me: true } | { email: string };

export type TicketCommand =
  | { kind: 'help' }
  | { kind: 'create' }
  | { kind: 'show'; number: number }
  | { kind: 'update'; number: number; changes: { status?: TicketStatus; priority?: TicketPriority } }
  | { kind: 'assign'; number: number; assignee: AssigneeRef }
  | { kind: 'comment'; number: number; body: string }
  | { kind: 'error'; message: string };

const fail = (message: string): TicketCommand => ({ kind: 'error', message });

function ticketNumber(word: string | undefined, usage: string): number | string {
  if (!word) return `say which ticket: ${usage}`;
  const match = /^#?(\d{1,9})$/.exec(word);
  if (!match) return `"${word}" is not a ticket number: ${usage}`;
  return Number(match[1]);
}

export function parseTicketCommand(raw: string): TicketCommand {
  const text = raw.trim();
  if (text === '' || text === 'help') return { kind: 'help' };
  const [verb, ...rest] = text.split(/\s+/);
  switch (verb) {
    case 'create':
      return rest.length === 0
        ? { kind: 'create' }
        : fail('`/ticket create` takes no text: it opens a form. Type `/ticket create` on its own.');
    case 'update':
      return parseUpdate(rest);
    case 'assign':
      return parseAssign(rest);
    case 'comment':
      return parseComment(text.slice(verb.length).trimStart());
    default: {
      const number = /^#?(\d{1,9})$/.exec(verb!);
      if (number && rest.length === 0) return { kind: 'show', number: Number(number[1]) };
      return fail(`unknown command "${clipWord(verb!)}". Try \`/ticket help\` for the list.`);
    }
  }
}

function clipWord(word: string): string {
  return word.length > 30 ? `${word.slice(0, 30)}…` : word;
}

function parseUpdate(words: string[]): TicketCommand {
  const usage = '`/ticket update 42 status=pending priority=high`';
  const number = ticketNumber(words[0], usage);
  if (typeof number === 'string') return fail(number);
  const changes: { status?: TicketStatus; priority?: TicketPriority } = {};
  for (const pair of words.slice(1)) {
    const [field, value, extra] = pair.split('=');
    if (extra !== undefined || value === undefined || value === '')
      return fail(`"${clipWord(pair)}" is not field=value: ${usage}`);
    if (field === 'status') {
      if (!(ticketStatuses as readonly string[]).includes(value))
        return fail(`status "${clipWord(value)}" is not one of ${ticketStatuses.join(', ')}`);
      changes.status = value as TicketStatus;
    } else if (field === 'priority') {
      if (!(ticketPriorities as readonly string[]).includes(value))
        return fail(`priority "${clipWord(value)}" is not one of ${ticketPriorities.join(', ')}`);
      changes.priority = value as TicketPriority;
    } else return fail(`"${clipWord(field!)}" cannot be changed from Slack: use status= or priority=`);
  }
  if (!changes.status && !changes.priority) return fail(`say what to change: ${usage}`);
  return { kind: 'update', number, changes };
}

function parseAssign(words: string[]): TicketCommand {
  const usage = '`/ticket assign 42 @ada` (or `me`, or an email address)';
  const number = ticketNumber(words[0], usage);
  if (typeof number === 'string') return fail(number);
  if (words.length !== 2) return fail(`say who, once: ${usage}`);
  const who = words[1]!;
  // Slack escapes a mention as <@U123|name> when the command has "Escape channels, users, and links" on.
  const mention = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(who);
  if (mention) return { kind: 'assign', number, assignee: { slackUserId: mention[1]! } };
  if (who === 'me') return { kind: 'assign', number, assignee: { me: true } };
  const email = /^(?:<mailto:([^|>]+)(?:\|[^>]*)?>|([^\s@<>]+@[^\s@<>]+\.[^\s@<>]+))$/.exec(who);
  if (email) return { kind: 'assign', number, assignee: { email: (email[1] ?? email[2])!.toLowerCase() } };
  if (who.startsWith('@'))
    return fail(
      `"${clipWord(who)}" reached us as plain text, not as a Slack mention: pick the person from Slack's list as you ` +
        'type, or give their email address',
    );
  return fail(`"${clipWord(who)}" is not a person: ${usage}`);
}

function parseComment(rest: string): TicketCommand {
  const usage = '`/ticket comment 42 your text`';
  const [first = '', ...words] = rest.split(/\s+/);
  const number = ticketNumber(first || undefined, usage);
  if (typeof number === 'string') return fail(number);
  const body = rest.slice(first.length).trim();
  if (!body || words.length === 0) return fail(`the comment is empty: ${usage}`);
  return { kind: 'comment', number, body };
}
