// Who hears of ticket events: the core's SLA clock, then every integration module's subscribers, in list order.
import { slaRelaySubscriber } from '../activities/db/sla-relay.ts';
import type { Config } from '../common/config.ts';
import type { IntegrationServer, RelaySubscriber } from '../common/integration-contract.ts';

export function relaySubscribers(
  servers: readonly IntegrationServer[],
  config: Config,
  options: { slaWarningShare?: number } = {},
): RelaySubscriber[] {
  return [
    slaRelaySubscriber({ ...(options.slaWarningShare !== undefined ? { warningShare: options.slaWarningShare } : {}) }),
    ...servers.flatMap((server) => server.relaySubscribers?.({ config }) ?? []),
  ];
}
