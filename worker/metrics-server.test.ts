import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { freshRelayMetrics } from '../outbox/relay.ts';
import { relayRegistry, startMetricsServer } from './metrics-server.ts';

describe('worker metrics', () => {
  it('serves the relay counters as they are when scraped, in Prometheus text', async () => {
    const current = freshRelayMetrics();
    const server = await startMetricsServer(
      relayRegistry(() => current),
      0,
    );
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      Object.assign(current, { dispatched: 42, failed: 3, oldestPendingAgeMs: 2500, isLeader: true, sessionsLost: 1 });
      const text = await (await fetch(url)).text();
      assert.match(text, /^outbox_events_dispatched 42$/m);
      assert.match(text, /^outbox_dispatch_failures 3$/m);
      assert.match(text, /^outbox_oldest_pending_age_seconds 2.5$/m);
      assert.match(text, /^outbox_relay_is_leader 1$/m);
      assert.match(text, /^outbox_relay_sessions_lost 1$/m);
      assert.match(text, /^process_cpu_seconds_total /m);
      assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404);
    } finally {
      server.close();
    }
  });
});
