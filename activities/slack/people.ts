// Who a Slack user is to us: their email (users.info, cached), and the organisation member with that email.
import type { WebClient } from '@slack/web-api';
import type { Database } from '@switchboard/database';
import type { SlackWorkspace } from '../../domain/slack/installations.ts';
import type { TtlCache } from './cache.ts';
import { callSlack } from './client.ts';

export type SlackPerson = { email: string | null; name: string; isBot: boolean };

export async function slackPerson(
  deps: { db: Database; people: TtlCache<SlackPerson> },
  client: WebClient,
  workspace: SlackWorkspace,
  slackUserId: string,
): Promise<SlackPerson> {
  return deps.people.get(`${workspace.teamId}:${slackUserId}`, async () => {
    const info = await callSlack(deps, workspace, 'users.info', () => client.users.info({ user: slackUserId }));
    const user = info.user;
    return {
      email: user?.profile?.email?.toLowerCase() ?? null,
      name: user?.profile?.real_name || user?.real_name || user?.name || slackUserId,
      isBot: !!user?.is_bot,
    };
  });
}
