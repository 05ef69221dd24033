// What arrives from Slack, as stored in slack_inbound.payload once the request's signature checked out: only what
// applying it needs (ids, the text people wrote), never the request's tokens. One type per way in.
import type { TicketPriority } from '../enums.ts';
import type { TicketCommand } from './commands.ts';

/** Where the answer to the person goes: Slack's response_url for the interaction, or an ephemeral in a channel. */
export type Answer = { responseUrl?: string; channelId?: string; threadTs?: string };

export type SlackInboundPayload = Answer &
  (
    | {
        kind: 'thread_reply';
        slackUserId: string;
        channelId: string;
        ts: string;
        threadTs: string;
        text: string;
        /** Files shared with the reply (file_share): their names and Slack links. */
        files?: Array<{ name: string; permalink: string }>;
      }
    | {
        kind: 'command';
        slackUserId: string;
        command: Extract<TicketCommand, { kind: 'update' | 'assign' | 'comment' }>;
      }
    | { kind: 'assign_me'; slackUserId: string }
    | { kind: 'set_status'; slackUserId: string; status: string }
    | { kind: 'discuss_dm'; slackUserId: string }
    | { kind: 'note'; slackUserId: string; body: string }
    | {
        kind: 'create';
        slackUserId: string;
        subject: string;
        description: string;
        priority: TicketPriority;
        requesterEmail: string | null;
      }
    | {
        kind: 'create_from_message';
        slackUserId: string;
        channelId: string;
        messageTs: string;
        text: string;
        authorSlackUserId: string | null;
      }
    | { kind: 'reply_to_customer'; slackUserId: string; channelId: string; messageTs: string; text: string }
  );

export type SlackInboundKind = SlackInboundPayload['kind'];
