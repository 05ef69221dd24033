// The Slack module's settings (SLACK_*, documented in the README and specification/slack.md): the Slack app's
// credentials, every Slack URL (so tests and air-gapped deployments point them at a stand-in), and the limits of
// the calls to Slack.
import { commaList, decimalNumber, httpUrl, wholeNumber } from '../../../common/env-values.ts';
import { moduleSettings } from '../../../common/integration-settings.ts';

export type SlackSettings = {
  /** The Slack app ("Basic Information"): without them the module serves nothing but its status. */
  clientId: string | null;
  clientSecret: string | null;
  signingSecret: string | null;
  /** The Web API's base (WebClient's `slackApiUrl`), ending in a slash. */
  apiUrl: string;
  authorizeUrl: string;
  /** Where Slack sends an admin back after "Add to Slack". */
  redirectUri: string;
  /** Bot scopes asked for at install. */
  scopes: string[];
  /**
   * Hosts a `response_url` from Slack may point at (Slack's own: hooks.slack.com). Anything else in a payload is
   * ignored, so a forged payload cannot make the server post somewhere else.
   */
  responseUrlHosts: string[];
  /** The `slack` task queue's activity rate limit across all workers; 0: none. */
  activitiesPerSecond: number;
  /** Slack's per-channel pace: posts a second, sustained, and how many more a burst may add (activities/slack/pace.ts). */
  channelPostsPerSecond: number;
  channelBurst: number;
  /** How long users, channels and emails read from Slack are reused. */
  cacheTtlMs: number;
  timeoutMs: number;
  /** The word that makes a thread reply public (a reply to the customer) instead of an internal note. */
  publicReplyPrefix: string;
};

const BOT_SCOPES =
  'chat:write,chat:write.public,commands,channels:read,channels:join,channels:history,groups:read,groups:history,' +
  'im:history,im:write,users:read,users:read.email,team:read';

/** Read with `slackSettings.of(config)`. */
export const slackSettings = moduleSettings('slack', (env, core): SlackSettings => {
  const apiUrl = httpUrl('SLACK_API_URL', env.SLACK_API_URL, 'https://slack.com/api/');
  return {
    clientId: env.SLACK_CLIENT_ID || null,
    clientSecret: env.SLACK_CLIENT_SECRET || null,
    signingSecret: env.SLACK_SIGNING_SECRET || null,
    apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    authorizeUrl: httpUrl('SLACK_AUTHORIZE_URL', env.SLACK_AUTHORIZE_URL, 'https://slack.com/oauth/v2/authorize'),
    redirectUri: httpUrl('SLACK_REDIRECT_URI', env.SLACK_REDIRECT_URI, `${core.publicUrl}/api/slack/oauth/callback`),
    scopes: commaList(env.SLACK_SCOPES, BOT_SCOPES),
    responseUrlHosts: commaList(env.SLACK_RESPONSE_URL_HOSTS, 'hooks.slack.com'),
    activitiesPerSecond: decimalNumber('SLACK_ACTIVITIES_PER_SECOND', env.SLACK_ACTIVITIES_PER_SECOND, 50, null),
    channelPostsPerSecond: decimalNumber('SLACK_CHANNEL_POSTS_PER_SECOND', env.SLACK_CHANNEL_POSTS_PER_SECOND, 1, null),
    channelBurst: wholeNumber('SLACK_CHANNEL_BURST', env.SLACK_CHANNEL_BURST, 20),
    cacheTtlMs: wholeNumber('SLACK_CACHE_TTL_SECONDS', env.SLACK_CACHE_TTL_SECONDS, 300) * 1000,
    timeoutMs: wholeNumber('SLACK_TIMEOUT_MS', env.SLACK_TIMEOUT_MS, 10_000, 1),
    publicReplyPrefix: env.SLACK_PUBLIC_REPLY_PREFIX || '!reply',
  };
});
