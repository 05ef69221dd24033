// A benchmark receiver in its own process: answers 200 to every POST and records, per request, how long after the
// event it arrived (the JSON body's `timestamp`, set when the event was written) and its webhook-id.
// GET /stats?since=<ms epoch> answers { count, distinctIds, latenciesMs, slowBySecond, perTenth, first, last } for
// requests received since then.
// Prints {"port":N} once listening; exits when stdin closes.
import http from 'node:http';

type Sample = { at: number; latencyMs: number; id: string };
const samples: Sample[] = [];
/** Tenths of a second that perTenth covers at most. */
const MAX_TENTHS = 6_000;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/stats')) {
    const since = Number(new URL(req.url, 'http://x').searchParams.get('since') ?? 0);
    const window = samples.filter((s) => s.at >= since);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        count: window.length,
        distinctIds: new Set(window.map((s) => s.id)).size,
        latenciesMs: window.map((s) => s.latencyMs).filter((l) => Number.isFinite(l)),
        /** Slow arrivals (over 1 s) by the second after `since` in which their event was written: where a tail is. */
        slowBySecond: window.reduce<Record<number, number>>((acc, s) => {
          if (s.latencyMs > 1000) {
            const second = Math.floor((s.at - s.latencyMs - since) / 1000);
            acc[second] = (acc[second] ?? 0) + 1;
          }
          return acc;
        }, {}),
        // Arrivals in each tenth of a second after `since`, where a run ramps up, runs steady and tails off: only for
        // a window given a start, over its first ten minutes (a soak asks for everything since 0).
        perTenth:
          since > 0
            ? window.reduce<number[]>((acc, s) => {
                const tenth = Math.floor((s.at - since) / 100);
                if (tenth >= MAX_TENTHS) return acc;
                while (acc.length <= tenth) acc.push(0);
                acc[tenth]!++;
                return acc;
              }, [])
            : [],
        first: window[0]?.at ?? null,
        last: window.at(-1)?.at ?? null,
      }),
    );
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    let latencyMs = Number.NaN;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp?: string };
      if (body.timestamp) latencyMs = at - Date.parse(body.timestamp);
    } catch {}
    samples.push({ at, latencyMs, id: String(req.headers['webhook-id'] ?? '') });
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
