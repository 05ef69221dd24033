// The Linear module's settings: Linear's endpoints, the OAuth application and the limits of the calls to Linear
// (LINEAR_*, documented in specification/linear.md and the README).
import { commaList, decimalNumber, httpUrl, wholeNumber } from '../../../common/env-values.ts';
import { moduleSettings } from '../../../common/integration-settings.ts';
import type { LinearEndpoints } from '../../../common/linear/oauth.ts';
import { taskQueueRateLimits } from '../../../temporal-config/index.ts';

export type LinearSettings = LinearEndpoints & {
  /** The linear task queue's activity rate limit across all workers (temporal-config holds the default); 0: none. */
  activitiesPerSecond: number;
};

/** Read with `linearSettings.of(config)`. */
export const linearSettings = moduleSettings(
  'linear',
  (env, core): LinearSettings => ({
    apiUrl: httpUrl('LINEAR_API_URL', env.LINEAR_API_URL, 'https://api.linear.app/graphql'),
    authorizeUrl: httpUrl('LINEAR_AUTHORIZE_URL', env.LINEAR_AUTHORIZE_URL, 'https://linear.app/oauth/authorize'),
    tokenUrl: httpUrl('LINEAR_TOKEN_URL', env.LINEAR_TOKEN_URL, 'https://api.linear.app/oauth/token'),
    revokeUrl: httpUrl('LINEAR_REVOKE_URL', env.LINEAR_REVOKE_URL, 'https://api.linear.app/oauth/revoke'),
    clientId: env.LINEAR_CLIENT_ID || null,
    clientSecret: env.LINEAR_CLIENT_SECRET || null,
    redirectUri: httpUrl('LINEAR_REDIRECT_URI', env.LINEAR_REDIRECT_URI, `${core.publicUrl}/api/linear/oauth/callback`),
    scopes: commaList(env.LINEAR_SCOPES, 'read,write,admin'),
    refreshMarginMs: wholeNumber('LINEAR_REFRESH_MARGIN_MS', env.LINEAR_REFRESH_MARGIN_MS, 5 * 60 * 1000),
    timeoutMs: wholeNumber('LINEAR_TIMEOUT_MS', env.LINEAR_TIMEOUT_MS, 15_000, 1),
    activitiesPerSecond: decimalNumber(
      'LINEAR_ACTIVITIES_PER_SECOND',
      env.LINEAR_ACTIVITIES_PER_SECOND,
      taskQueueRateLimits.linear ?? 0,
      null,
    ),
  }),
);
