// Helpers for the Slack tests: the strict local Slack (test/fakes/slack) wired to the API and worker through the
// module's own settings, and "Add to Slack" run the way a browser runs it (start, approve on Slack, come back with
// the state cookie).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { createSlackFake } from './fakes/slack/server.ts';
import { createTestOrganization, type TestApi, type TestUser } from './support/api.ts';

export type SlackFake = Awaited<ReturnType<typeof createSlackFake>>;

/** The SLACK_* variables the module reads (packages/integrations/slack/settings.ts), pointed at the fake. */
export function slackEnv(slack: SlackFake): Record<string, string> {
  return {
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    SLACK_AUTHORIZE_URL: slack.oauth.authorizeUrl,
    SLACK_RESPONSE_URL_HOSTS: new URL(slack.url).host,
    SLACK_CACHE_TTL_SECONDS: '300',
  };
}

/** Sets the variables for the processes this test starts; returns the function that puts the old ones back. */
export function useSlackEnv(slack: SlackFake): () => void {
  const values = slackEnv(slack);
  const before = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  Object.assign(process.env, values);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * "Add to Slack" as the admin's browser does it: the start route (which sets the state cookie), Slack's approval
 * (as `slackUserId` of `teamId`), then the callback with that cookie. Returns where the callback sent the browser.
 */
export async function addToSlack(
  api: TestApi,
  admin: TestUser,
  input: { teamId: string; slackUserId?: string },
): Promise<URL> {
  const start = await admin.fetch('POST', '/api/slack/install');
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const cookie = start.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .find((c) => c?.startsWith('slack-app-oauth-state='));
  assert.ok(cookie, 'the start sets the state cookie');
  const redirect = new URL(await slackApprove(start.body.authorizeUrl, input));
  assert.equal(redirect.origin, api.baseUrl, 'Slack sends the browser back to our callback');
  const back = await fetch(redirect, { headers: { cookie: cookie! }, redirect: 'manual' });
  assert.equal(back.status, 302);
  return new URL(back.headers.get('location')!, api.baseUrl);
}

let approve: ((url: string, input: { teamId?: string; userId?: string }) => string) | null = null;
export function useSlackApprover(slack: SlackFake): void {
  approve = (url, input) => slack.approveInstall(url, input);
}
async function slackApprove(url: string, input: { teamId: string; slackUserId?: string }): Promise<string> {
  if (!approve) throw new Error('useSlackApprover(slack) first');
  return approve(url, { teamId: input.teamId, ...(input.slackUserId ? { userId: input.slackUserId } : {}) });
}

/** Installs and returns the new installation's id. */
export async function installSlack(
  api: TestApi,
  admin: TestUser,
  input: { teamId: string; slackUserId?: string },
): Promise<string> {
  const landed = await addToSlack(api, admin, input);
  assert.equal(landed.searchParams.get('slack'), 'connected', landed.toString());
  return landed.searchParams.get('integration')!;
}

/**
 * A new organisation whose admin is the Slack admin of a new workspace (ids made from `letter` and a random run, so
 * test files never share one), installed, with one rule posting to the workspace's one channel.
 */
export async function freshWorkspace(api: TestApi, slack: SlackFake, letter: string, kinds: string[]) {
  const run = randomUUID()
    .slice(0, 6)
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, 'X');
  const admin = await createTestOrganization({ role: 'admin', email: `ada-${letter}${run}@acme.test`.toLowerCase() });
  const team = `T0${letter}${run}`;
  const channel = `C0${letter}${run}`;
  const user = `U0${letter}${run}`;
  slack.addTeam({
    id: team,
    name: `Team ${letter}${run}`,
    domain: `team-${letter}${run}`.toLowerCase(),
    users: [{ id: user, name: 'ada', realName: 'Ada', email: admin.email, isAdmin: true }],
    channels: [{ id: channel, name: 'support' }],
  });
  const integrationId = await installSlack(api, admin, { teamId: team, slackUserId: user });
  const rules = await admin.fetch('PATCH', `/api/integrations/${integrationId}`, {
    config: { rules: [{ id: 'all', name: 'All', channelId: channel, kinds }] },
  });
  assert.equal(rules.status, 200, JSON.stringify(rules.body));
  return { admin, team, channel, user, integrationId };
}
