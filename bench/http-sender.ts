// POSTs per second against a local receiver in another process: a plain Node keep-alive loop (the ceiling),
// safePost, and deliverWebhook (signing + safePost: one delivery attempt minus the bookkeeping).
// Run: npm run bench -- http-sender
// Options (env): SECONDS per run (default 5), CONCURRENCY in flight (default 64), ROUNDS (default 3).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { deliverWebhook } from '../activities/http/deliver-webhook.ts';
import { createSafePoster } from '../activities/http/safe-post.ts';
import { generateSecret } from '../common/webhooks/standard-webhooks.ts';

const seconds = Number(process.env.SECONDS ?? 5);
const concurrency = Number(process.env.CONCURRENCY ?? 64);
const rounds = Number(process.env.ROUNDS ?? 3);
const body = JSON.stringify({
  type: 'ticket.updated',
  timestamp: new Date().toISOString(),
  data: { id: 'tkt_01HZX', number: 4821, status: 'open', priority: 'high', subject: 'Printer on fire'.repeat(4) },
});

async function startReceiverProcess() {
  const child = spawn(process.execPath, [new URL('../test/receivers/serve.ts', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = await createInterface({ input: child.stdout! })
    [Symbol.asyncIterator]()
    .next()
    .then((r) => [r.value as string]);
  const { port } = JSON.parse(line!) as { port: number };
  return { port, stop: () => child.stdin!.end() };
}

/** Runs `send` with `concurrency` in flight for `seconds`, after a 1 s warm-up; returns completed per second. */
async function measure(send: () => Promise<number>) {
  let done = 0;
  let failed = 0;
  let counting = false;
  let stopAt = Date.now() + 1000;
  const worker = async () => {
    while (Date.now() < stopAt) {
      const status = await send().catch(() => 0);
      if (counting) status === 200 ? done++ : failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker)); // warm-up: connections opened, JIT warm
  counting = true;
  const started = performance.now();
  stopAt = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: Math.round(done / elapsed), failed };
}

const receiver = await startReceiverProcess();
const url = `http://127.0.0.1:${receiver.port}/bench`;

const rawAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const rawPost = () =>
  new Promise<number>((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent: rawAgent, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const poster = createSafePoster({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
const secrets = [generateSecret(), generateSecret()];
let n = 0;
const senders: Record<string, () => Promise<number>> = {
  'raw Node keep-alive loop': rawPost,
  safePost: async () => (await poster.post({ url, headers: {}, body })).status,
  'deliverWebhook (sign with 2 secrets + safePost)': async () => {
    const attempt = await deliverWebhook(poster, { url, msgId: `msg_${n++}`, body, secrets });
    return attempt.kind === 'response' ? attempt.status : 0;
  },
};

// The machine is shared: interleave the senders over several rounds and keep each one's best round.
const best: Record<string, { perSecond: number; failed: number }> = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, send] of Object.entries(senders)) {
    const result = await measure(send);
    if (!best[name] || result.perSecond > best[name].perSecond) best[name] = result;
  }
}
rawAgent.destroy();
poster.close();
receiver.stop();

const ceiling = best['raw Node keep-alive loop']!.perSecond;
console.log(
  `best of ${rounds} rounds of ${seconds} s, ${concurrency} in flight, ${body.length}-byte body, ` +
    `receiver in its own process, load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores\n`,
);
console.log('| sender | POST/s | of raw | failed |\n|---|---|---|---|');
for (const [name, r] of Object.entries(best))
  console.log(`| ${name} | ${r.perSecond} | ${Math.round((100 * r.perSecond) / ceiling)}% | ${r.failed} |`);
