// The Slack messages Switchboard sends, as Block Kit, from plain facts: pure, so the activity that posts them, the
// dashboard's preview (SlackNotificationPreview, through the API) and the tests render exactly the same thing.
// Every piece of user text (subject, names, comment bodies) is escaped for mrkdwn: a subject cannot become a
// mention of @channel or a link that was not ours.
import { type TicketPriority, type TicketStatus, ticketStatuses } from '../enums.ts';

/** The ticket as a message shows it. */
export type TicketCard = {
  id: string;
  number: number;
  subject: string;
  status: TicketStatus;
  priority: TicketPriority;
  requester: { email: string; name: string | null } | null;
  assigneeName: string | null;
  /** The SLA clock that runs out next, if any. */
  sla: { kind: 'first_response' | 'resolution'; dueAt: string; breached: boolean } | null;
  /** The ticket's page in the dashboard. */
  url: string;
};

export type SlackMessage = { text: string; blocks: Block[] };
// Block Kit is open-ended JSON; the shapes used here are checked by the Slack stand-in against Slack's description.
export type Block = { type: string; block_id?: string } & Record<string, unknown>;

export const slackActionIds = {
  assignToMe: 'sb_assign_me',
  status: 'sb_status',
  addNote: 'sb_add_note',
  discussInDm: 'sb_discuss_dm',
  open: 'sb_open',
} as const;

export const slackCallbackIds = {
  addNoteView: 'sb_add_note',
  createTicketView: 'sb_create_ticket',
  createFromMessage: 'sb_create_from_message',
  replyToCustomer: 'sb_reply_to_customer',
} as const;

const STATUS_LABELS: Record<TicketStatus, string> = {
  open: 'Open',
  pending: 'Pending',
  on_hold: 'On hold',
  solved: 'Solved',
  closed: 'Closed',
};
const PRIORITY_LABELS: Record<TicketPriority, string> = {
  low: 'Low',
  normal: 'Normal',
  high: ':large_orange_circle: High',
  urgent: ':red_circle: Urgent',
};

/** mrkdwn's three control characters, escaped as Slack asks. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack's limits: a section's text is at most 3000 characters, a message's fallback text 40000. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A time every reader sees in their own zone, with the fallback for clients that cannot. */
function slackDate(iso: string, format: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${seconds}^${format}|${new Date(seconds * 1000).toUTCString()}>`;
}

function slaLine(sla: TicketCard['sla']): string {
  if (!sla) return 'No SLA clock';
  const what = sla.kind === 'first_response' ? 'First response' : 'Resolution';
  return sla.breached
    ? `:red_circle: ${what} overdue since ${slaDate(sla.dueAt)}`
    : `${what} due ${slackDate(sla.dueAt, '{ago}')} (${slaDate(sla.dueAt)})`;
}
const slaDate = (iso: string) => slackDate(iso, '{date_short_pretty} {time}');

function title(card: TicketCard): string {
  return `#${card.number} ${card.subject}`;
}

function requesterText(card: TicketCard): string {
  if (!card.requester) return '_none_';
  return escapeMrkdwn(card.requester.name ? `${card.requester.name} <${card.requester.email}>` : card.requester.email);
}

/** The ticket's one message in a channel: its facts, its SLA countdown and the actions. Edited in place. */
export function ticketMessage(card: TicketCard): SlackMessage {
  const statusOptions = ticketStatuses.map((status) => ({
    text: { type: 'plain_text', text: STATUS_LABELS[status] },
    value: status,
  }));
  return {
    // The fallback text is shown in notifications and read aloud: escaped like the blocks, or a subject could ping.
    text: clip(`${escapeMrkdwn(title(card))} (${card.priority}, ${STATUS_LABELS[card.status]})`, 3000),
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: clip(`*<${card.url}|${escapeMrkdwn(title(card))}>*`, 3000) },
      },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Requester*\n${requesterText(card)}` },
          { type: 'mrkdwn', text: `*Priority*\n${PRIORITY_LABELS[card.priority]}` },
          { type: 'mrkdwn', text: `*Status*\n${STATUS_LABELS[card.status]}` },
          {
            type: 'mrkdwn',
            text: `*Assignee*\n${card.assigneeName ? escapeMrkdwn(card.assigneeName) : '_unassigned_'}`,
          },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: slaLine(card.sla) }] },
      {
        type: 'actions',
        block_id: `sb_ticket:${card.id}`,
        elements: [
          {
            type: 'button',
            action_id: slackActionIds.assignToMe,
            text: { type: 'plain_text', text: 'Assign to me' },
            value: card.id,
          },
          {
            type: 'static_select',
            action_id: slackActionIds.status,
            placeholder: { type: 'plain_text', text: 'Status' },
            options: statusOptions,
            initial_option: statusOptions.find((o) => o.value === card.status),
          },
          {
            type: 'button',
            action_id: slackActionIds.addNote,
            text: { type: 'plain_text', text: 'Add note' },
            value: card.id,
          },
          {
            type: 'button',
            action_id: slackActionIds.discussInDm,
            text: { type: 'plain_text', text: 'Discuss in DM' },
            value: card.id,
          },
          {
            type: 'button',
            action_id: slackActionIds.open,
            text: { type: 'plain_text', text: 'Open in dashboard' },
            url: card.url,
          },
        ],
      },
    ],
  };
}

/** What a ticket's event says in its thread (or, for an assignment, in the agent's DM). */
export type ThreadNote =
  | { kind: 'status'; from: TicketStatus; to: TicketStatus; by: string | null }
  | { kind: 'priority'; from: TicketPriority; to: TicketPriority; by: string | null }
  | { kind: 'sla'; breached: boolean; slaKind: 'first_response' | 'resolution'; dueAt: string }
  | { kind: 'comment'; author: string; isPublic: boolean; body: string }
  | { kind: 'assigned'; card: TicketCard }
  | { kind: 'mentioned'; card: TicketCard; author: string; body: string };

export function threadNote(note: ThreadNote): SlackMessage {
  const text = noteText(note);
  return { text: clip(text, 3000), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, 3000) } }] };
}

function noteText(note: ThreadNote): string {
  const by = (who: string | null) => (who ? ` by ${escapeMrkdwn(who)}` : '');
  switch (note.kind) {
    case 'status':
      return `Status changed from *${STATUS_LABELS[note.from]}* to *${STATUS_LABELS[note.to]}*${by(note.by)}`;
    case 'priority':
      return `:rotating_light: Priority raised from *${note.from}* to *${note.to}*${by(note.by)}`;
    case 'sla': {
      const what = note.slaKind === 'first_response' ? 'first response' : 'resolution';
      return note.breached
        ? `:red_circle: SLA breached: the ${what} was due ${slaDate(note.dueAt)}`
        : `:warning: SLA warning: the ${what} is due ${slackDate(note.dueAt, '{ago}')} (${slaDate(note.dueAt)})`;
    }
    case 'comment': {
      const label = note.isPublic ? 'replied to the customer' : 'added an internal note';
      return `*${escapeMrkdwn(note.author)}* ${label}:\n${clip(escapeMrkdwn(note.body), 2800)}`;
    }
    case 'mentioned':
      return `*${escapeMrkdwn(note.author)}* mentioned you on *<${note.card.url}|${escapeMrkdwn(title(note.card))}>*:\n${clip(escapeMrkdwn(note.body), 2800)}`;
    case 'assigned':
      return `You were assigned *<${note.card.url}|${escapeMrkdwn(title(note.card))}>* (${note.card.priority}, requester ${requesterText(note.card)})`;
  }
}

/** `/ticket <number>`: the details, for the person who asked only. */
export function ticketDetails(card: TicketCard): SlackMessage {
  const message = ticketMessage(card);
  return { text: message.text, blocks: message.blocks.slice(0, 3) };
}

export const HELP_TEXT = [
  '*Switchboard: `/ticket` commands*',
  '`/ticket create` opens a form for a new ticket',
  '`/ticket 42` shows ticket 42 (only to you)',
  '`/ticket update 42 status=pending priority=high` changes its status and/or priority',
  '`/ticket assign 42 @ada` assigns it (or `me`, or an email address)',
  '`/ticket comment 42 your text` adds an internal note (start with `!reply` to answer the customer)',
  '`/ticket help` shows this list',
].join('\n');
