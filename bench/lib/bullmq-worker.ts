// The BullMQ baseline's worker process: what a Node team would otherwise build. Each job is one signed
// delivery (Standard Webhooks headers, same signer as ours) POSTed over a keep-alive agent; a non-2xx answer
// throws so BullMQ retries it with exponential backoff. Env: QUEUE, CONCURRENCY, SECRET, QUEUES: one worker of
// CONCURRENCY on each of the queues QUEUE-0 … QUEUE-(QUEUES-1) (above 1, a queue per endpoint).
import http from 'node:http';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { sign } from '../../common/webhooks/standard-webhooks.ts';

// BullMQ under native ESM wants a constructed client; workers need maxRetriesPerRequest: null.
const connection = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });
const queues = Number(process.env.QUEUES ?? 1);
const concurrency = Number(process.env.CONCURRENCY ?? 64);
// One queue: one agent for its one receiver. A queue per endpoint: an agent per queue with a socket per job slot, as
// Switchboard keeps a connection pool per endpoint (every endpoint is its own server in real life).
const agents = Array.from(
  { length: queues },
  () => new http.Agent({ keepAlive: true, maxSockets: queues === 1 ? 256 : concurrency }),
);
const secret = process.env.SECRET!;

function post(agent: http.Agent, url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const deliver = (agent: http.Agent) => async (job: { data: unknown }) => {
  const { url, msgId, body } = job.data as { url: string; msgId: string; body: string };
  const headers = sign({ msgId, timestamp: Math.floor(Date.now() / 1000), body, secrets: [secret] });
  const status = await post(agent, url, { 'content-type': 'application/json', ...headers }, body);
  if (status < 200 || status >= 300) throw new Error(`receiver answered ${status}`);
};
const workers = agents.map(
  (agent, q) =>
    new Worker(`${process.env.QUEUE}-${q}`, deliver(agent), {
      connection,
      concurrency,
      removeOnComplete: { count: 0 },
    }),
);
await Promise.all(workers.map((worker) => worker.waitUntilReady()));
process.stdout.write('ready\n');
process.stdin.on('end', async () => {
  await Promise.all(workers.map((worker) => worker.close()));
  process.exit(0);
});
process.stdin.resume();
