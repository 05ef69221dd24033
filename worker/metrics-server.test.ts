import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
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

  describe('on a port that is taken', () => {
    let taken: ReturnType<typeof createServer>;
    let port: number;
    before(async () => {
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      port = (taken.address() as AddressInfo).port;
    });
    after(() => taken.close());

    it('refuses with one sentence naming WORKER_METRICS_PORT', async () => {
      await assert.rejects(
        startMetricsServer(
          relayRegistry(() => freshRelayMetrics()),
          port,
        ),
        new RegExp(`^Error: WORKER_METRICS_PORT ${port} is already in use on 127\\.0\\.0\\.1: set WORKER_METRICS_PORT`),
      );
    });

    it('stops the worker process at once with that one line, before it waits for Temporal', async function () {
      // Most of this is Node loading the worker's modules on a busy machine.
      this.timeout(90_000);
      const main = fileURLToPath(new URL('./main.ts', import.meta.url));
      const child = spawn(process.execPath, [main], {
        // Nothing listens on this Temporal address: a worker that got past the port would wait there forever.
        env: { ...process.env, WORKER_METRICS_PORT: String(port), TEMPORAL_ADDRESS: '127.0.0.1:1', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 1, output);
      const lines = output.trim().split('\n');
      assert.equal(lines.length, 1, output);
      assert.equal(JSON.parse(lines[0]!).msg.startsWith(`WORKER_METRICS_PORT ${port} is already in use`), true, output);
    });
  });
});
