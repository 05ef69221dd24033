// The two baselines of the webhooks benchmark, against the same receiver as Switchboard:
// a plain Node keep-alive POST loop (the ceiling), and BullMQ on Redis doing the same signed deliveries.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { generateSecret } from '../../common/webhooks/standard-webhooks.ts';
import type { startLatencyReceiver } from './receiver-process.ts';

type Receiver = Awaited<ReturnType<typeof startLatencyReceiver>>;

const body = (i: number) =>
  JSON.stringify({
    type: 'ticket.created',
    timestamp: new Date().toISOString(),
    data: { ticket: { id: randomUUID(), number: i, subject: 'Printer on fire', status: 'open', priority: 'high' } },
  });

/** Deliveries per second with `concurrency` POSTs in flight for `seconds`. */
export async function rawKeepAliveLoop(receiver: Receiver, seconds = 5, concurrency = 64): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const url = receiver.url('/raw');
  let done = 0;
  const stopAt = Date.now() + seconds * 1000;
  const post = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
      req.end(body(i));
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < stopAt) {
        await post(done);
        done++;
      }
    }),
  );
  agent.destroy();
  return done / ((performance.now() - started) / 1000);
}

/**
 * BullMQ: enqueue `count` signed deliveries at once; deliveries per second until the receiver has them all. With
 * `queues` above 1, the deliveries are split over that many queues, each with its own worker of `concurrency` (in one
 * process): how a BullMQ sender isolates endpoints from one another (one queue per endpoint, so a slow endpoint only
 * fills its own queue), as Switchboard's endpoints each have their own loop and concurrency.
 */
export async function bullmqSender(receiver: Receiver, count = 20_000, concurrency = 64, queues = 1) {
  const queueName = `bench-webhooks-${randomUUID().slice(0, 8)}`;
  const connection = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });
  const child = spawn(process.execPath, [new URL('./bullmq-worker.ts', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      QUEUE: queueName,
      QUEUES: String(queues),
      CONCURRENCY: String(concurrency),
      SECRET: generateSecret(),
    },
  });
  // Attached now: a child that dies during the run must not leave the cleanup below waiting for an exit already past.
  const exited = once(child, 'exit');
  await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  const all = Array.from({ length: queues }, (_, q) => new Queue(`${queueName}-${q}`, { connection }));
  try {
    const url = receiver.url('/bullmq');
    const since = Date.now();
    const started = performance.now();
    // Round-robin over the queues, as deliveries spread over the endpoints; each queue's share added in bulk.
    await Promise.all(
      all.map(async (queue, q) => {
        const mine = Array.from({ length: count }, (_, i) => i).filter((i) => i % all.length === q);
        for (let at = 0; at < mine.length; at += 1000) {
          await queue.addBulk(
            mine.slice(at, at + 1000).map((i) => ({
              name: 'deliver',
              data: { url, msgId: `msg_${randomUUID()}`, body: body(i) },
              opts: { attempts: 8, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: true },
            })),
          );
        }
      }),
    );
    let stats = await receiver.stats(since);
    while (stats.count < count) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await receiver.stats(since);
    }
    return { perSecond: count / ((performance.now() - started) / 1000), stats };
  } finally {
    // The workers close first (finishing the jobs they hold, whose keys obliterate would remove under them), and
    // before the next timed run starts.
    child.stdin!.end();
    await exited;
    for (const queue of all) {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
    connection.disconnect();
  }
}
