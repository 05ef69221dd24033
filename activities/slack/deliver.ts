// Posting and editing the ticket's Slack messages, each at most once. A post's row (slack_posts, unique by its key)
// is written before the call and given the message's ts after it; a retry that finds the row without a ts asks
// Slack whether the earlier attempt got through (the key travels in the message's metadata) before posting again,
// so a worker killed between Slack's answer and our write does not post twice.

import type { ChatPostMessageArguments, WebClient } from '@slack/web-api';
import { slackPosts } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, sql } from 'drizzle-orm';
import type { TicketPriority, TicketStatus } from '../../common/enums.ts';
import { type SlackMessage, type ThreadNote, threadNote, ticketMessage } from '../../common/slack/blocks.ts';
import { type MessageWithMetadata, postKeyOf, postMetadata } from '../../common/slack/post-key.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import { memberById } from '../../domain/members/lookup.ts';
import { actorName, commentAuthorName, ticketEventsByIds, ticketForSlack } from '../../domain/slack/cards.ts';
import type { SlackDeps } from '../../domain/slack/deps.ts';
import { findWorkspace, type SlackWorkspace } from '../../domain/slack/installations.ts';
import { SLACK_REFUSED, type SlackTicketRef } from '../../workflows/slack-contract.ts';
import type { SlackOp } from '../../workflows/slack-thread-plan.ts';
import type { TtlCache } from './cache.ts';
import { assertConnected, callSlack, type SlackClients, slackErrorCode, slackFailure } from './client.ts';
import { awaitChannelSlot } from './pace.ts';

export type DeliverDeps = SlackDeps & {
  clients: SlackClients;
  slackIdByEmail: TtlCache<string | null>;
  /** Channels the bot has joined, by `team:channel`. */
  joined: Set<string>;
};

type PostTarget = { channelId: string; threadTs: string | null; kind: 'parent' | 'reply' | 'dm'; broadcast?: boolean };

export async function deliverSlackOp(deps: DeliverDeps, ref: SlackTicketRef & { op: SlackOp }): Promise<void> {
  const workspace = await loadWorkspace(deps, ref);
  if (!workspace.isActive) return; // switched off: nothing goes to Slack
  assertConnected(workspace);
  const client = await deps.clients.forWorkspace(workspace);
  const ticket = await ticketForSlack(deps.db, deps.publicUrl, ref.organizationId, ref.ticketId);
  if (!ticket) return; // deleted since: nothing to show
  const { op } = ref;
  switch (op.op) {
    case 'parent':
      await joinChannel(deps, client, workspace, op.channelId);
      await post(
        deps,
        client,
        workspace,
        ref,
        op.key,
        { channelId: op.channelId, threadTs: null, kind: 'parent' },
        () => ticketMessage(ticket.card),
      );
      return;
    case 'update': {
      const parent = await postRow(deps, workspace, op.key);
      if (!parent?.ts) return; // never posted (its channel refused it): nothing to edit
      const message = ticketMessage(ticket.card);
      await callSlack(deps, workspace, 'chat.update', () =>
        client.chat.update({ channel: parent.channelId, ts: parent.ts!, text: message.text, blocks: message.blocks }),
      );
      await recordIntegrationOutcome(deps.db, ref.organizationId, ref.integrationId, { ok: true });
      return;
    }
    case 'reply': {
      const parent = await postRow(deps, workspace, `parent/${ref.ticketId}/${op.channelId}`);
      if (!parent?.ts) return;
      const note = await noteFor(deps, ref, op.eventId);
      if (!note) return;
      await post(
        deps,
        client,
        workspace,
        ref,
        op.key,
        { channelId: op.channelId, threadTs: parent.ts, kind: 'reply', broadcast: op.broadcast },
        () => threadNote(note),
      );
      return;
    }
    case 'dm': {
      const agent = await memberById(deps.db, ref.organizationId, op.userId);
      if (!agent) return;
      const slackUserId = await slackIdByEmail(deps, client, workspace, agent.email);
      if (!slackUserId) return; // not in this workspace: nobody to tell
      let note: ThreadNote = { kind: 'assigned', card: ticket.card };
      if (op.reason === 'mentioned') {
        const said = await noteFor(deps, ref, op.eventId);
        if (said?.kind !== 'comment') return;
        note = { kind: 'mentioned', card: ticket.card, author: said.author, body: said.body };
      }
      const channelId = await openDm(deps, client, workspace, slackUserId);
      await post(deps, client, workspace, ref, op.key, { channelId, threadTs: null, kind: 'dm' }, () =>
        threadNote(note),
      );
      return;
    }
    case 'dm_parent': {
      const channelId = await openDm(deps, client, workspace, op.slackUserId);
      // Keyed like a channel's parent, so the planner edits it and mirrors comments into it like any other.
      const key = `parent/${ref.ticketId}/${channelId}`;
      await post(deps, client, workspace, ref, key, { channelId, threadTs: null, kind: 'parent' }, () =>
        ticketMessage(ticket.card),
      );
      return;
    }
  }
}

async function loadWorkspace(deps: DeliverDeps, ref: SlackTicketRef): Promise<SlackWorkspace> {
  // Removed: nothing to post to. A database failure is thrown as it is (retried), not taken for a removal.
  const workspace = await findWorkspace(deps, ref.organizationId, ref.integrationId);
  if (!workspace) throw ApplicationFailure.nonRetryable('the Slack installation was removed', SLACK_REFUSED);
  return workspace;
}

async function postRow(deps: Pick<SlackDeps, 'db'>, workspace: SlackWorkspace, key: string) {
  const [row] = await deps.db
    .select()
    .from(slackPosts)
    .where(and(eq(slackPosts.integrationId, workspace.integrationId), eq(slackPosts.postKey, key)));
  return row;
}

/** The message posted once under `key`: done if an earlier attempt's ts is known or can be found on Slack. */
async function post(
  deps: DeliverDeps,
  client: WebClient,
  workspace: SlackWorkspace,
  ref: SlackTicketRef,
  key: string,
  target: PostTarget,
  render: () => SlackMessage,
): Promise<string> {
  const existing = await postRow(deps, workspace, key);
  if (existing?.ts) return existing.ts;
  // An earlier attempt wrote the row: it may have posted before it died.
  let ts = existing ? await findEarlierPost(deps, client, workspace, existing, key) : undefined;
  let rowId = existing?.id;
  if (!ts) {
    // The channel's pace first: a post that must wait long goes back to Temporal before it leaves any trace, so its
    // retry does not have to look for it on Slack.
    await awaitChannelSlot(deps.db, workspace.integrationId, target.channelId, {
      postsPerSecond: deps.settings.channelPostsPerSecond,
      burst: deps.settings.channelBurst,
    });
    // Stamped as sent before the call: see slackPosts.postedAt.
    let stamped = false;
    if (!rowId) {
      const [fresh] = await deps.db
        .insert(slackPosts)
        .values({
          organizationId: ref.organizationId,
          integrationId: ref.integrationId,
          ticketId: ref.ticketId,
          postKey: key,
          kind: target.kind,
          channelId: target.channelId,
          threadTs: target.threadTs,
          postedAt: sql`now()`,
        })
        .onConflictDoNothing()
        .returning({ id: slackPosts.id });
      stamped = fresh !== undefined;
      if (fresh) rowId = fresh.id;
      else {
        // Another attempt wrote the row meanwhile: it may have posted; look before posting.
        const other = (await postRow(deps, workspace, key))!;
        rowId = other.id;
        ts = other.ts ?? (await findEarlierPost(deps, client, workspace, other, key));
      }
    }
    if (!ts) {
      if (!stamped) await deps.db.update(slackPosts).set({ postedAt: sql`now()` }).where(eq(slackPosts.id, rowId!));
      ts = await postMessage(deps, client, workspace, target, key, render());
    }
  }
  // The ts first, before anything else is asked of Slack: replies in the thread find their ticket by it.
  await deps.db.update(slackPosts).set({ ts, postedAt: sql`now()` }).where(eq(slackPosts.id, rowId!));
  if (target.kind === 'parent') {
    const permalink = await client.chat
      .getPermalink({ channel: target.channelId, message_ts: ts })
      .then((r) => r.permalink ?? null)
      .catch(() => null); // a link for the ticket page only: the post itself stands
    if (permalink) await deps.db.update(slackPosts).set({ permalink }).where(eq(slackPosts.id, rowId!));
  }
  await recordIntegrationOutcome(deps.db, ref.organizationId, ref.integrationId, { ok: true });
  return ts;
}

/** Posts a message carrying its key in metadata (also the notification channel's post). */
export async function postMessage(
  deps: DeliverDeps,
  client: WebClient,
  workspace: SlackWorkspace,
  target: PostTarget,
  key: string,
  message: SlackMessage,
): Promise<string> {
  const common = {
    channel: target.channelId,
    text: message.text,
    blocks: message.blocks,
    metadata: postMetadata(key),
    unfurl_links: false,
    unfurl_media: false,
  };
  const args: ChatPostMessageArguments = target.threadTs
    ? { ...common, thread_ts: target.threadTs, reply_broadcast: !!target.broadcast }
    : common;
  try {
    const result = await client.chat.postMessage(args);
    return result.ts!;
  } catch (error) {
    // A public channel the bot has not joined yet: it joins (channels:join) and posts.
    if ((await slackErrorCode(error)) !== 'not_in_channel')
      return callSlack(deps, workspace, 'chat.postMessage', () => Promise.reject(error));
    await callSlack(deps, workspace, 'conversations.join', () =>
      client.conversations.join({ channel: target.channelId }),
    );
    const result = await callSlack(deps, workspace, 'chat.postMessage', () => client.chat.postMessage(args));
    return result.ts!;
  }
}

/**
 * The message an earlier attempt posted under `key`, found by its metadata among the messages since the row was
 * written (a minute's margin for clocks), page by page: a busy channel may have many since.
 */
async function findEarlierPost(
  deps: DeliverDeps,
  client: WebClient,
  workspace: SlackWorkspace,
  row: typeof slackPosts.$inferSelect,
  key: string,
): Promise<string | undefined> {
  const oldest = String(Math.floor(row.createdAt.getTime() / 1000) - 60);
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const result = row.threadTs
      ? await callSlack(deps, workspace, 'conversations.replies', () =>
          client.conversations.replies({
            channel: row.channelId,
            ts: row.threadTs!,
            oldest,
            include_all_metadata: true,
            limit: 200,
            ...(cursor ? { cursor } : {}),
          }),
        )
      : await callSlack(deps, workspace, 'conversations.history', () =>
          client.conversations.history({
            channel: row.channelId,
            oldest,
            include_all_metadata: true,
            limit: 200,
            ...(cursor ? { cursor } : {}),
          }),
        );
    const found = (result.messages as MessageWithMetadata[] | undefined)?.find((m) => postKeyOf(m) === key);
    if (found?.ts) return found.ts;
    cursor = result.response_metadata?.next_cursor || undefined;
    if (!cursor) return undefined;
  }
  return undefined;
}

/**
 * The bot joins a public channel before it posts a ticket there: chat:write.public would let it post without
 * joining, but Slack sends message events (the thread replies that become comments) only from channels the bot is
 * in, and reads their history (finding an earlier attempt's post) only there. Once per channel per process; a
 * private channel cannot be joined (an admin invites the bot), which the post itself then reports.
 */
async function joinChannel(deps: DeliverDeps, client: WebClient, workspace: SlackWorkspace, channelId: string) {
  const key = `${workspace.teamId}:${channelId}`;
  if (deps.joined.has(key)) return;
  try {
    await client.conversations.join({ channel: channelId });
    deps.joined.add(key);
  } catch (error) {
    const code = await slackErrorCode(error);
    // Not joinable (a private channel: the bot must be invited; a workspace that restricts joining): the post
    // itself says whether the bot may write there. Remembered, so it is not asked again before every post.
    if (
      code === 'method_not_supported_for_channel_type' ||
      code === 'missing_scope' ||
      code === 'restricted_action' ||
      code === 'is_archived' ||
      code === 'channel_not_found'
    ) {
      deps.joined.add(key);
      return;
    }
    throw await slackFailure(deps, workspace, 'conversations.join', error);
  }
}

/** The bot's DM with a Slack user (also the notification channel's). */
export async function openDm(deps: DeliverDeps, client: WebClient, workspace: SlackWorkspace, slackUserId: string) {
  const opened = await callSlack(deps, workspace, 'conversations.open', () =>
    client.conversations.open({ users: slackUserId }),
  );
  const id = opened.channel?.id;
  if (!id) throw ApplicationFailure.retryable('Slack opened no DM channel');
  return id;
}

/** Our member's Slack user in this workspace, by email (users.lookupByEmail, cached); null if they have none. */
export async function slackIdByEmail(
  deps: DeliverDeps,
  client: WebClient,
  workspace: SlackWorkspace,
  email: string,
): Promise<string | null> {
  return deps.slackIdByEmail.get(`${workspace.teamId}:${email.toLowerCase()}`, async () => {
    try {
      return (await client.users.lookupByEmail({ email })).user?.id ?? null;
    } catch (error) {
      if ((await slackErrorCode(error)) === 'users_not_found') return null;
      throw await slackFailure(deps, workspace, 'users.lookupByEmail', error);
    }
  });
}

/** What an event says in the ticket's thread, read from the stored event. */
async function noteFor(deps: DeliverDeps, ref: SlackTicketRef, eventId: number): Promise<ThreadNote | null> {
  const [event] = await ticketEventsByIds(deps.db, ref.organizationId, ref.ticketId, [eventId]);
  if (!event) return null;
  const payload = event.payload as Record<string, unknown>;
  switch (event.type) {
    case 'ticket.status_changed':
      return {
        kind: 'status',
        from: payload.from as TicketStatus,
        to: payload.to as TicketStatus,
        by: await actorName(deps.db, ref.organizationId, event),
      };
    case 'ticket.updated': {
      const change = (payload.changes as Record<string, { from: TicketPriority; to: TicketPriority }>)?.priority;
      if (!change) return null;
      return { kind: 'priority', ...change, by: await actorName(deps.db, ref.organizationId, event) };
    }
    case 'sla.warning':
    case 'sla.breached':
      return {
        kind: 'sla',
        breached: event.type === 'sla.breached',
        slaKind: payload.kind as 'first_response' | 'resolution',
        dueAt: payload.dueAt as string,
      };
    case 'comment.created': {
      const comment = payload.comment as { id: string; isPublic: boolean; body: string; author?: { name?: string } };
      const author = comment.author?.name ?? (await commentAuthorName(deps.db, comment.id)) ?? 'Someone';
      return { kind: 'comment', author, isPublic: comment.isPublic, body: comment.body };
    }
    default:
      return null;
  }
}
