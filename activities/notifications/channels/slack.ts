// The Slack channel: a notification posted into a rule's Slack channel, or into a member's DM with the bot (found
// in the organisation's connected workspace by the member's email). It goes through the Slack module's own
// plumbing: its clients (Slack's retries off, Temporal's on), its per-channel pace, its error mapping (a 429 is
// retried after Retry-After; a revoked token disconnects the workspace) and its email → Slack user cache.
//
// Slack has no idempotency key either: each post carries its notification's key in the message metadata, and a
// retried attempt looks for it in the conversation before posting again, so an item that went out before a later
// one failed (or before a worker died) is not posted twice.
import type { WebClient } from '@slack/web-api';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ServiceConfig } from '../../../common/integration-settings.ts';
import { type Block, escapeMrkdwn, type SlackMessage } from '../../../common/slack/blocks.ts';
import { type MessageWithMetadata, postKeyOf } from '../../../common/slack/post-key.ts';
import { recordIntegrationOutcome } from '../../../domain/integrations/record-outcome.ts';
import {
  NOTIFICATION_ACK_ACTION_ID,
  notificationAckActionId,
} from '../../../domain/notifications/slack-acknowledge.ts';
import { type SlackWorkspace, workspaceOf, workspacesOf } from '../../../domain/slack/installations.ts';
import { slackSettings } from '../../../packages/integrations/slack/settings.ts';
import { openDm, postMessage, slackIdByEmail } from '../../slack/deliver.ts';
import { type SlackRuntime, slackRuntime } from '../../slack/index.ts';
import { awaitChannelSlot } from '../../slack/pace.ts';
import type { ChannelDeps, ChannelSender, NotificationItem, OutgoingNotification, SendOutcome } from './types.ts';

/** One Slack runtime (clients, caches) per process and config, like the Slack worker's. */
const runtimes = new WeakMap<ServiceConfig, SlackRuntime>();

function runtimeOf(deps: ChannelDeps): SlackRuntime {
  let runtime = runtimes.get(deps.config);
  if (!runtime) {
    runtime = slackRuntime({
      db: deps.db,
      keys: deps.config.credentialKeys,
      settings: slackSettings.of(deps.config),
      publicUrl: deps.publicUrl,
      logger: deps.logger,
      temporal: deps.temporal,
      ticketsTaskQueue: deps.ticketsTaskQueue,
    });
    runtimes.set(deps.config, runtime);
  }
  return runtime;
}

class Permanent extends Error {}

export const sendSlackNotification: ChannelSender = async (deps, notification) => {
  const { items } = notification;
  if (items.length === 0) return [];
  const runtime = runtimeOf(deps);
  const messages = notification.digest
    ? [{ ids: items.map((i) => i.id), key: `notification/digest/${minId(items)}`, render: () => digest(items) }]
    : items.map((item) => ({ ids: [item.id], key: `notification/${item.id}`, render: () => single(item) }));
  let found: Awaited<ReturnType<typeof target>>;
  try {
    found = await target(runtime, notification);
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return items.map((item) => ({ id: item.id, ok: false, reason: (error as Error).message, permanent: true }));
  }
  const { workspace, client, channelId } = found;
  const outcomes: SendOutcome[] = [];
  for (const message of messages) {
    try {
      const earlier = activityAttempt() > 1 ? await findEarlierPost(client, channelId, message.key, items) : undefined;
      if (!earlier) {
        await awaitChannelSlot(runtime.db, workspace.integrationId, channelId, {
          postsPerSecond: runtime.settings.channelPostsPerSecond,
          burst: runtime.settings.channelBurst,
        });
        await postMessage(
          runtime,
          client,
          workspace,
          { channelId, threadTs: null, kind: notification.recipient.kind === 'user' ? 'dm' : 'parent' },
          message.key,
          message.render(),
        );
      }
      for (const id of message.ids) outcomes.push({ id, ok: true });
    } catch (error) {
      // A refusal no retry can change (a revoked token, an archived channel, a message Slack will not take) fails
      // this message for good; anything else (a 429, Slack unreachable, the channel's pace) is retried by Temporal.
      if (!isPermanent(error)) throw error;
      for (const id of message.ids) outcomes.push({ id, ok: false, reason: (error as Error).message, permanent: true });
    }
  }
  if (outcomes.some((o) => o.ok))
    // Bookkeeping only: once the posts went out, a failure to record it must not make the retry post them again.
    await recordIntegrationOutcome(deps.db, notification.organizationId, workspace.integrationId, { ok: true }).catch(
      (error: unknown) =>
        deps.logger.warn({ err: error, integrationId: workspace.integrationId }, 'Slack health not recorded'),
    );
  return outcomes;
};

function isPermanent(error: unknown): boolean {
  return error instanceof Permanent || (error instanceof ApplicationFailure && error.nonRetryable === true);
}

/** The activity's attempt (1 outside an activity: a direct call in a test or a tool). */
function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

function minId(items: NotificationItem[]): number {
  return Math.min(...items.map((i) => i.id));
}

/** The workspace, its client and the conversation to post in; a Permanent error when there is none. */
async function target(
  runtime: SlackRuntime,
  notification: OutgoingNotification,
): Promise<{ workspace: SlackWorkspace; client: WebClient; channelId: string }> {
  const { recipient, organizationId } = notification;
  if (recipient.kind === 'customer') throw new Permanent('requesters are not notified in Slack');
  let workspace: SlackWorkspace;
  if (recipient.kind === 'slack_channel') {
    // The installation named by the rule, and only if it is this organisation's.
    const found = await workspaceOf(runtime, organizationId, recipient.integrationId).catch(() => null);
    if (!found) throw new Permanent('the Slack installation this rule posts to was removed');
    workspace = found;
  } else {
    const all = await workspacesOf(runtime, organizationId);
    const usable = all.find((w) => w.isActive && !w.disconnectedReason);
    if (!usable) {
      const any = all[0];
      throw new Permanent(
        !any
          ? 'no Slack workspace is connected to this organisation'
          : any.disconnectedReason
            ? `the Slack workspace ${any.teamName} is disconnected (${any.disconnectedReason}): install the app again`
            : `Slack is switched off for ${any.teamName}`,
      );
    }
    workspace = usable;
  }
  if (!workspace.isActive) throw new Permanent(`Slack is switched off for ${workspace.teamName}`);
  if (workspace.disconnectedReason)
    throw new Permanent(
      `the Slack workspace ${workspace.teamName} is disconnected (${workspace.disconnectedReason}): install the app again`,
    );
  const client = await runtime.clients.forWorkspace(workspace);
  if (recipient.kind === 'slack_channel') return { workspace, client, channelId: recipient.channelId };
  const slackUserId = await slackIdByEmail(runtime, client, workspace, recipient.email);
  if (!slackUserId)
    throw new Permanent(`the member has no Slack account with their email address in ${workspace.teamName}`);
  return { workspace, client, channelId: await openDm(runtime, client, workspace, slackUserId) };
}

/**
 * A retried attempt's earlier post of the same key, by its metadata, among the conversation's messages since the
 * oldest item was created (one page: a notification conversation is not busy). A lookup that fails is not a reason
 * to hold the notification back: it is posted.
 */
async function findEarlierPost(
  client: WebClient,
  channelId: string,
  key: string,
  items: NotificationItem[],
): Promise<string | undefined> {
  const oldest = Math.min(...items.map((i) => Date.parse(i.createdAt))) / 1000 - 60;
  try {
    const result = await client.conversations.history({
      channel: channelId,
      oldest: String(Math.floor(oldest)),
      include_all_metadata: true,
      limit: 200,
    });
    return (result.messages as MessageWithMetadata[] | undefined)?.find((m) => postKeyOf(m) === key)?.ts;
  } catch {
    return undefined;
  }
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Our own link as Slack's `<url|label>` can hold it: only http(s), and none of the characters that end the token. */
function slackUrl(url: string | null): string | null {
  if (!url) return null;
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) return null;
  return parsed.href.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E');
}

const CRITICAL = ':rotating_light: *Critical*';

/** One item: its title, its body, a button to the dashboard and, on an alert, "Acknowledge". */
function single(item: NotificationItem): SlackMessage {
  const title = escapeMrkdwn(item.title);
  const link = slackUrl(item.link);
  const blocks: Block[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`${item.severity === 'critical' ? `${CRITICAL} ` : ''}*${title}*`, 3000) },
    },
  ];
  if (item.body) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(item.body), 3000) } });
  const buttons: Record<string, unknown>[] = [];
  if (link)
    buttons.push({
      type: 'button',
      action_id: 'notification_open',
      text: { type: 'plain_text', text: 'Open in Switchboard' },
      url: link,
    });
  if (item.alertId)
    buttons.push({
      type: 'button',
      action_id: NOTIFICATION_ACK_ACTION_ID,
      text: { type: 'plain_text', text: 'Acknowledge' },
      style: 'danger',
      value: item.alertId,
    });
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  return {
    // Shown in the push notification and read aloud: escaped like the blocks, so a title cannot ping anyone.
    text: clip(`${item.severity === 'critical' ? 'Critical: ' : ''}${title}`, 3000),
    blocks,
  };
}

/** The message the Slack channel sends for these items: one, or a digest (the rules editor's preview shows it). */
export function slackNotificationMessage(items: NotificationItem[], asDigest: boolean): SlackMessage {
  return asDigest ? digest(items) : single(items[0]!);
}

/** Slack allows 50 blocks: a digest lists this many items, then says how many more the dashboard has. */
const DIGEST_ITEMS = 45;

/** A digest: one line per item (its title linked, its body's start) and, on an alert, its "Acknowledge" button. */
function digest(items: NotificationItem[]): SlackMessage {
  const count = `${items.length} notification${items.length === 1 ? '' : 's'}`;
  const blocks: Block[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*Your digest: ${count}*` } }];
  let alerts = 0;
  for (const item of items.slice(0, DIGEST_ITEMS)) {
    const link = slackUrl(item.link);
    const title = escapeMrkdwn(item.title);
    const line = `${item.severity === 'critical' ? `${CRITICAL} ` : ''}${link ? `*<${link}|${title}>*` : `*${title}*`}`;
    const body = item.body ? `\n${escapeMrkdwn(clip(item.body, 300))}` : '';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(line + body, 3000) },
      ...(item.alertId
        ? {
            accessory: {
              type: 'button',
              // Action ids are unique within a message: the first alert's is the plain one.
              action_id: notificationAckActionId(alerts++),
              text: { type: 'plain_text', text: 'Acknowledge' },
              style: 'danger',
              value: item.alertId,
            },
          }
        : {}),
    });
  }
  if (items.length > DIGEST_ITEMS)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${items.length - DIGEST_ITEMS} more in your notification centre` }],
    });
  return { text: clip(`Your digest: ${count}`, 3000), blocks };
}
