// Who hears of ticket events: the core's SLA clock, then every integration module's subscribers, in list order.
import { slaRelaySubscriber } from '../activities/db/sla-relay.ts';
import type { IntegrationServer, RelaySubscriber } from '../common/integration-contract.ts';
import type { ServiceConfig } from '../common/integration-settings.ts';

export function relaySubscribers(
  servers: readonly IntegrationServer[],
  config: ServiceConfig,
  options: { slaWarningShare?: number } = {},
): RelaySubscriber[] {
  return [
    slaRelaySubscriber({ ...(options.slaWarningShare !== undefined ? { warningShare: options.slaWarningShare } : {}) }),
    ...servers.flatMap((server) => server.relaySubscribers?.({ config }) ?? []),
  ];
}
