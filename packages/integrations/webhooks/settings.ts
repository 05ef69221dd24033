// The webhooks module's settings: the deployment's URL policy for endpoints, the request timeout, the largest body
// and the retry compression of test deployments (SWITCHBOARD_WEBHOOK_*, documented in the README).
import { parseAllowList } from '../../../activities/http/ssrf-guard.ts';
import { commaList, decimalNumber, flag, wholeNumber } from '../../../common/env-values.ts';
import { moduleSettings } from '../../../common/integration-settings.ts';

export type WebhookSettings = {
  /** Plain-http endpoints are refused unless a deployment opts in (tests do, for their loopback receivers). */
  allowHttp: boolean;
  /** CIDRs that outbound webhooks may reach although they are private/loopback (empty: none). */
  allowCidrs: string[];
  /** Per webhook request. */
  timeoutMs: number;
  /** The largest body: a larger event is refused at the source. */
  payloadLimitBytes: number;
  /** Divides the retry waits, for test deployments that run the day-long schedule in minutes; 1 in production. */
  retryCompression: number;
  /**
   * How long a busy endpoint's batch keeps listening for new deliveries after its last one (the relay's fan-out
   * notifies it instead of waking its workflow through Temporal); 0 ends every batch once its deliveries run out.
   */
  listenQuietMs: number;
  /**
   * Round statements a worker runs at once (activities/webhooks/round-statement.ts): the rounds that lanes ask for
   * while these run go together in the next one.
   */
  roundStatementsInFlight: number;
};

/** Read with `webhookSettings.of(config)`. */
export const webhookSettings = moduleSettings(
  'webhook',
  (env): WebhookSettings => ({
    allowHttp: flag('SWITCHBOARD_WEBHOOK_ALLOW_HTTP', env.SWITCHBOARD_WEBHOOK_ALLOW_HTTP),
    allowCidrs: allowList(env.SWITCHBOARD_WEBHOOK_ALLOW_CIDRS),
    timeoutMs: wholeNumber('SWITCHBOARD_WEBHOOK_TIMEOUT_MS', env.SWITCHBOARD_WEBHOOK_TIMEOUT_MS, 15_000, 1),
    payloadLimitBytes: wholeNumber(
      'SWITCHBOARD_WEBHOOK_PAYLOAD_LIMIT_BYTES',
      env.SWITCHBOARD_WEBHOOK_PAYLOAD_LIMIT_BYTES,
      256 * 1024,
      1,
    ),
    retryCompression: decimalNumber(
      'SWITCHBOARD_WEBHOOK_RETRY_COMPRESSION',
      env.SWITCHBOARD_WEBHOOK_RETRY_COMPRESSION,
      1,
      0,
    ),
    listenQuietMs: wholeNumber('SWITCHBOARD_WEBHOOK_LISTEN_MS', env.SWITCHBOARD_WEBHOOK_LISTEN_MS, 5_000),
    roundStatementsInFlight: wholeNumber(
      'SWITCHBOARD_WEBHOOK_ROUND_STATEMENTS',
      env.SWITCHBOARD_WEBHOOK_ROUND_STATEMENTS,
      4,
      1,
    ),
  }),
);

/** Checked now, as the deliveries will parse it, so a typo stops the process instead of every delivery. */
function allowList(value: string | undefined): string[] {
  const cidrs = commaList(value);
  try {
    parseAllowList(cidrs);
  } catch (error) {
    throw new Error(`SWITCHBOARD_WEBHOOK_ALLOW_CIDRS: ${error instanceof Error ? error.message : String(error)}`);
  }
  return cidrs;
}
