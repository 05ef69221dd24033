// The "Acknowledge" button on a critical alert's Slack message. The click is verified by the Slack module's
// receiver (signature, installed workspace); here it acknowledges the alert as the member the Slack user is (by
// their Slack email), or as `slack:<user>` when they are not a member, but only an alert of the workspace's own
// organisation (another's is acknowledgeAlert's 404, answered as "not found"). The acknowledgement is recorded and
// the alert's workflow signalled before Slack gets its 200 (inside the three seconds, as the module's other
// actions), so a failure is an error Slack shows rather than a click that looked done. Then the message is updated
// through the interaction's response_url: the button gives way to "Acknowledged by …" for everyone in the
// conversation; a second click gets an ephemeral "Already acknowledged by …".
import type { WebClient } from '@slack/web-api';
import type { TtlCache } from '../../activities/slack/cache.ts';
import { type SlackPerson, slackPerson } from '../../activities/slack/people.ts';
import { allowedResponseUrl } from '../../activities/slack/respond.ts';
import { RequestError } from '../../common/errors.ts';
import { type Block, escapeMrkdwn } from '../../common/slack/blocks.ts';
import { memberByEmail, memberById } from '../members/lookup.ts';
import type { SlackDeps } from '../slack/deps.ts';
import type { SlackWorkspace } from '../slack/installations.ts';
import { acknowledgeAlert } from './alerts.ts';

/** The button's action id; in a digest listing several alerts, the later ones get `…:<n>` (ids are unique per message). */
export const NOTIFICATION_ACK_ACTION_ID = 'notification_acknowledge';

export function notificationAckActionId(index: number): string {
  return index === 0 ? NOTIFICATION_ACK_ACTION_ID : `${NOTIFICATION_ACK_ACTION_ID}:${index}`;
}

export function isNotificationAckAction(actionId: string): boolean {
  return actionId === NOTIFICATION_ACK_ACTION_ID || actionId.startsWith(`${NOTIFICATION_ACK_ACTION_ID}:`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type SlackAckInput = {
  client: WebClient;
  workspace: SlackWorkspace;
  slackUserId: string;
  alertId: string | undefined;
  actionId: string;
  responseUrl: string | undefined;
  /** The message the button was on, as Slack sent it in the payload. */
  message: { text?: string; blocks?: Block[] } | undefined;
  ack: () => Promise<void>;
};

const ACKNOWLEDGING_ROLES: ReadonlySet<string> = new Set(['admin', 'agent']);

export async function acknowledgeAlertFromSlack(
  ctx: { deps: SlackDeps; people: TtlCache<SlackPerson> },
  input: SlackAckInput,
): Promise<void> {
  const { deps } = ctx;
  const { workspace } = input;
  const alertId = input.alertId && UUID.test(input.alertId) ? input.alertId : null;
  const person = await slackPerson(
    { db: deps.db, people: ctx.people },
    input.client,
    workspace,
    input.slackUserId,
  ).catch(() => null);
  const member = person?.email ? await memberByEmail(deps.db, workspace.organizationId, person.email) : null;
  // Acknowledging cancels an escalation: the same rule as the dashboard (an agent or an admin), so a guest in a
  // shared channel or a viewer cannot silence an alert.
  if (!member || !ACKNOWLEDGING_ROLES.has(member.role)) {
    await input.ack();
    void respond(deps, input.responseUrl, {
      response_type: 'ephemeral',
      replace_original: false,
      text: ':no_entry_sign: Only an agent or an admin of the organisation can acknowledge this alert.',
    });
    return;
  }
  const by = member.userId;
  let result: Awaited<ReturnType<typeof acknowledgeAlert>> | null = null;
  if (alertId) {
    try {
      result = await acknowledgeAlert({ db: deps.db, temporal: deps.temporal }, workspace.organizationId, alertId, by);
    } catch (error) {
      if (!(error instanceof RequestError && error.status === 404)) throw error;
    }
  }
  await input.ack();

  if (!result) {
    void respond(deps, input.responseUrl, {
      response_type: 'ephemeral',
      replace_original: false,
      text: ':no_entry_sign: This alert was not found: it may have been deleted.',
    });
    return;
  }
  if (result.acknowledgedNow) {
    const who = escapeMrkdwn(member.name);
    void respond(deps, input.responseUrl, {
      replace_original: true,
      text: input.message?.text ?? 'Acknowledged',
      blocks: [
        ...withoutAckButton(input.message?.blocks ?? [], input.actionId),
        { type: 'context', elements: [{ type: 'mrkdwn', text: `:white_check_mark: Acknowledged by ${who}` }] },
      ],
    });
    return;
  }
  void respond(deps, input.responseUrl, {
    response_type: 'ephemeral',
    replace_original: false,
    text: `Already acknowledged by ${await nameOf(deps, workspace.organizationId, result.acknowledgedBy)}.`,
  });
}

/** The message's blocks without the button that was clicked (the other items of a digest keep theirs). */
function withoutAckButton(blocks: Block[], actionId: string): Block[] {
  const out: Block[] = [];
  for (const block of blocks) {
    const accessory = block.accessory as { action_id?: string } | undefined;
    if (accessory?.action_id === actionId) {
      const { accessory: _dropped, ...rest } = block;
      out.push(rest as Block);
      continue;
    }
    if (block.type === 'actions' && Array.isArray(block.elements)) {
      const elements = (block.elements as Array<{ action_id?: string }>).filter((e) => e.action_id !== actionId);
      if (elements.length > 0) out.push({ ...block, elements });
      continue;
    }
    out.push(block);
  }
  return out;
}

async function nameOf(deps: SlackDeps, organizationId: string, by: string | null): Promise<string> {
  if (!by) return 'someone';
  if (by.startsWith('slack:')) return `<@${by.slice('slack:'.length).replace(/[^A-Z0-9]/gi, '')}>`;
  const member = await memberById(deps.db, organizationId, by);
  return member ? escapeMrkdwn(member.name) : 'a former member';
}

/** The interaction's response_url, only on a host the deployment allows (a forged payload cannot aim elsewhere). */
async function respond(deps: SlackDeps, responseUrl: string | undefined, body: Record<string, unknown>) {
  const url = allowedResponseUrl(responseUrl, deps.settings.responseUrlHosts);
  if (!url) return;
  await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(deps.settings.timeoutMs),
    redirect: 'manual',
  }).catch((error: unknown) => deps.logger.warn({ err: error }, 'Slack response_url not answered'));
}
