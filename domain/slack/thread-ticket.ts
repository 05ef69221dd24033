// Which ticket a Slack thread belongs to: for a person's reply in it, and for Reply to customer on such a reply
// (api/routes/slack-events.ts).
import type { WebClient } from '@slack/web-api';
import { slackPosts } from '@switchboard/database';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { type MessageWithMetadata, postKeyOf } from '../../common/slack/post-key.ts';
import type { SlackDeps } from './deps.ts';
import type { SlackWorkspace } from './installations.ts';

/**
 * The ticket whose message starts a thread. A reply can arrive before the post that started the thread has recorded
 * its ts: Slack may send the event before chat.postMessage has answered us. The post wrote its row (with its key)
 * before it posted, and the message carries that key in its metadata; so when a channel has such a post still
 * unrecorded, the thread's first message is read from Slack and matched by key. Nothing else costs a Slack call.
 */
export async function ticketOfThread(
  deps: Pick<SlackDeps, 'db'>,
  client: WebClient,
  workspace: SlackWorkspace,
  channelId: string,
  threadTs: string,
): Promise<{ ticketId: string } | null> {
  // One statement, so a ts written meanwhile is seen either as the thread's or as still pending, never as neither.
  const rows = await deps.db
    .select({ ticketId: slackPosts.ticketId, postKey: slackPosts.postKey, ts: slackPosts.ts })
    .from(slackPosts)
    .where(
      and(
        eq(slackPosts.integrationId, workspace.integrationId),
        eq(slackPosts.channelId, channelId),
        eq(slackPosts.kind, 'parent'),
        or(
          eq(slackPosts.ts, threadTs),
          // Sent to Slack within the hour: a post that failed for good leaves its row without a ts, and should not
          // cost every later reply in its channel a Slack call.
          and(isNull(slackPosts.ts), gt(slackPosts.postedAt, sql`now() - interval '1 hour'`)),
        ),
      ),
    );
  const known = rows.find((r) => r.ts === threadTs);
  if (known) return known;
  if (rows.length === 0) return null;
  // A failure here (a 429 included: the client does not wait) is thrown: Bolt answers an error and Slack sends the
  // event again.
  const thread = await client.conversations.replies({
    channel: channelId,
    ts: threadTs,
    limit: 1,
    include_all_metadata: true,
  });
  const root = (thread.messages as MessageWithMetadata[] | undefined)?.find((m) => m.ts === threadTs);
  // Only our own bot's message: another app in the channel could copy a key into its own message's metadata.
  if (root?.user !== workspace.botUserId) return null;
  const key = postKeyOf(root);
  return rows.find((r) => r.postKey === key) ?? null;
}
