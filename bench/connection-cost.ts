// What a new connection costs a webhook sender and its receiver, beside a request on a kept-alive one: the same
// 3,000 POSTs (a 300-byte JSON body, undici as the delivery engine uses it), 64 at a time, over a new connection
// each, over one connection per 4 and per 8 requests, and over 64 kept-alive connections (the peer). Client and receiver share this
// process, so the CPU per request is both sides' (and the kernel's loopback work done for them).
// Run: node bench/connection-cost.ts. Why it matters: a burst to 100 new endpoints opens each one's connections
// (deliver-batch.ts, SENDS_PER_CONNECTION), specification/performance.md, "Writes a delivery no longer makes".
import http from 'node:http';
import { Client } from 'undici';
import { median } from './lib/stats.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };
const origin = `http://127.0.0.1:${port}`;
const body = JSON.stringify({ type: 'ticket.updated', data: { subject: 'Printer on fire'.repeat(18) } });

/** Requests in flight at once, in every shape: as many as the webhooks benchmark gives an endpoint. */
const IN_FLIGHT = 64;

/**
 * CPU (µs) per request when each of IN_FLIGHT senders sends its share of REQUESTS in turn, opening a new connection
 * for every `perConnection` of them (Infinity: one kept-alive connection each).
 */
async function cpuPerRequest(perConnection: number): Promise<number> {
  const perSender = Math.ceil(REQUESTS / IN_FLIGHT);
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      let client: Client | undefined;
      for (let i = 0; i < perSender; i++) {
        if (i % perConnection === 0) {
          await client?.close();
          client = new Client(origin, { keepAliveTimeout: 30_000 });
        }
        const response = await client!.request({
          path: '/',
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
        });
        await response.body.text();
      }
      await client?.close();
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / (IN_FLIGHT * perSender);
}

const shapes: Array<[string, number]> = [
  ['a new connection per request', 1],
  ['a connection per 4 requests', 4],
  ['a connection per 8 requests', 8],
  ['64 kept-alive connections (peer)', Number.POSITIVE_INFINITY],
];
const samples = new Map<string, number[]>(shapes.map(([label]) => [label, []]));
for (let round = 0; round < ROUNDS; round++)
  for (const [label, connections] of shapes) samples.get(label)!.push(await cpuPerRequest(connections));
server.close();
const peer = median(samples.get('64 kept-alive connections (peer)')!);
console.log(`CPU per request, both sides, median of ${ROUNDS} rounds of ${REQUESTS} requests:`);
for (const [label] of shapes) {
  const m = median(samples.get(label)!);
  console.log(`  ${label.padEnd(34)} ${Math.round(m)} µs (×${(m / peer).toFixed(2)} of the peer)`);
}
