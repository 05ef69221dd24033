// End to end against a real HTTP receiver on loopback. Addresses other than loopback are only ever returned by an
// injected resolver for a made-up hostname, and the test proves no socket connect happens for them.
import assert from 'node:assert/strict';
import net from 'node:net';
import { Webhook } from 'standardwebhooks';
import { classifyAttempt } from '../../common/webhooks/attempt-outcome.ts';
import { generateSecret, sign } from '../../common/webhooks/standard-webhooks.ts';
import { behaviours, type Receiver, startReceiver } from '../../test/receivers/webhook-receiver.ts';
import {
  ConnectionRefusedError,
  ConnectionResetError,
  DnsError,
  InvalidUrlError,
  PayloadTooLargeError,
  SsrfRefusedError,
  TimeoutError,
  TlsError,
} from './errors.ts';
import type { ResolvedAddress } from './guarded-agent.ts';
import { createSafePoster, type SafePoster, type SafePostOptions } from './safe-post.ts';

const loopbackAllowed: SafePostOptions = { allowHttp: true, allowCidrs: ['127.0.0.0/8', '::1/128'] };
const body = JSON.stringify({ type: 'ticket.created', data: { id: 't_1' } });

/**
 * Counts socket connects (TLS sockets are net.Sockets too) aimed at the URL's host and port while `fn` runs. Other
 * connects in this process (a database pool reconnecting) are not ours to count.
 */
async function countingConnects<T>(
  url: string,
  fn: () => Promise<T>,
): Promise<{ connects: number; result: PromiseSettledResult<T> }> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const original = net.Socket.prototype.connect;
  let connects = 0;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.createConnection passes its normalised arguments as one array; tls.connect passes the options object.
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const options = (first ?? {}) as { host?: string; port?: number | string };
    if (Number(options.port) === port && options.host === host) connects++;
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  try {
    const [result] = await Promise.allSettled([fn()]);
    return { connects, result: result! };
  } finally {
    net.Socket.prototype.connect = original;
  }
}

function rejectionOf<T>(result: PromiseSettledResult<T>): unknown {
  assert.equal(result.status, 'rejected', 'expected the POST to be refused');
  return (result as PromiseRejectedResult).reason;
}

describe('safePost', () => {
  let receiver: Receiver;
  const posters: SafePoster[] = [];
  const poster = (options: SafePostOptions) => {
    const p = createSafePoster(options);
    posters.push(p);
    return p;
  };

  before(async () => {
    receiver = await startReceiver();
  });
  afterEach(() => {
    for (const p of posters.splice(0)) p.close();
    receiver.reset();
  });
  after(async () => {
    await receiver.close();
  });

  it('POSTs the exact body and signed headers, which the standardwebhooks verifier accepts on arrival', async () => {
    const secret = generateSecret();
    const headers = sign({ msgId: 'msg_e2e', timestamp: new Date(), body, secrets: [secret] });
    const response = await poster(loopbackAllowed).post({ url: receiver.url('/hooks?k=1'), headers, body });

    assert.equal(response.status, 200);
    assert.ok(response.durationMs >= 0 && response.durationMs < 5000);
    assert.equal(response.bodyTruncated, false);
    const [received] = receiver.requests;
    assert.equal(received?.method, 'POST');
    assert.equal(received?.path, '/hooks?k=1');
    assert.equal(received?.body, body);
    assert.equal(received?.headers['content-type'], 'application/json');
    assert.match(String(received?.headers['user-agent']), /^Switchboard-Webhooks\//);
    new Webhook(secret).verify(received!.body, received!.headers as Record<string, string>);
  });

  it('lets a custom Content-Type or User-Agent replace ours, however its name is spelled, and sends it once', async () => {
    const response = await poster(loopbackAllowed).post({
      url: receiver.url('/custom-headers'),
      headers: { 'Content-Type': 'application/cloudevents+json', 'USER-AGENT': 'Acme/2' },
      body,
    });
    assert.equal(response.status, 200);
    const [received] = receiver.requestsTo('/custom-headers');
    assert.equal(received?.headers['content-type'], 'application/cloudevents+json');
    assert.equal(received?.headers['user-agent'], 'Acme/2');
  });

  it('keeps each pool’s (endpoint’s) connections alive, even when endpoints sharing a host hold more than one shared pool keeps idle', async () => {
    // Two endpoints on one host, 150 requests in flight each: 300 connections, more than the 256 idle connections a
    // pool keeps per host. Shared, every burst would reconnect what did not fit; one pool each, none is lost.
    const p = poster(loopbackAllowed);
    const url = `http://127.0.0.1:${receiver.port}/pooled`;
    const burst = (pool: string) =>
      Promise.all(Array.from({ length: 150 }, () => p.post({ url, headers: {}, body, pool })));
    const { connects, result } = await countingConnects(url, async () => {
      for (let round = 0; round < 3; round++) await Promise.all([burst('endpoint-a'), burst('endpoint-b')]);
    });
    assert.equal(result.status, 'fulfilled');
    assert.equal(receiver.requestsTo('/pooled').length, 900);
    assert.equal(connects, 300, 'one connection per request in flight, each kept for the next bursts');
  });

  it('reuses keep-alive connections: one resolution and one connect for sequential deliveries', async () => {
    const resolved: string[] = [];
    const p = poster({
      ...loopbackAllowed,
      resolve: async (hostname) => {
        resolved.push(hostname);
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    const url = `http://hooks.customer.test:${receiver.port}/reuse`;
    const { connects, result } = await countingConnects(url, async () => {
      for (let i = 0; i < 5; i++) assert.equal((await p.post({ url, headers: {}, body })).status, 200);
    });
    assert.equal(result.status, 'fulfilled');
    assert.deepEqual(resolved, ['hooks.customer.test']);
    assert.equal(connects, 1);
    assert.equal(receiver.requestsTo('/reuse').length, 5);
  });

  describe('SSRF: loopback end to end', () => {
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::1]', 'localhost']) {
      it(`refuses http://${host} without the allow-list: no connect, nothing reaches the receiver`, async () => {
        const p = poster({ allowHttp: true });
        const { connects, result } = await countingConnects(`http://${host}:${receiver.port}/ssrf`, () =>
          p.post({ url: `http://${host}:${receiver.port}/ssrf`, headers: {}, body }),
        );
        const error = rejectionOf(result);
        assert.ok(error instanceof SsrfRefusedError, String(error));
        assert.equal(error.code, 'ssrf_refused');
        assert.match(error.message, /loopback/);
        assert.equal(connects, 0);
        assert.equal(receiver.count(), 0);
      });
    }

    it('delivers to 127.0.0.1 and [::ffff:127.0.0.1] when the allow-list names 127.0.0.0/8', async () => {
      const p = poster({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]']) {
        const url = `http://${host}:${receiver.port}/allowed`;
        // The same connect counter that shows zero for refused addresses sees this one.
        const { connects, result } = await countingConnects(url, () => p.post({ url, headers: {}, body }));
        assert.equal(result.status === 'fulfilled' && result.value.status, 200, host);
        assert.equal(connects, 1, host);
      }
      assert.equal(receiver.requestsTo('/allowed').length, 2);
    });
  });

  describe('SSRF: internal addresses behind a hostname, through an injected resolver', () => {
    const internal = [
      '10.0.0.5',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.1',
      '192.0.2.1',
      '198.51.100.1',
      '203.0.113.1',
      '255.255.255.255',
      'fd00::1',
      'fe80::1',
      'ff02::1',
      '2001:db8::1',
      '::ffff:10.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::a00:5',
    ];
    for (const address of internal) {
      it(`refuses a hostname resolving to ${address} before any connection is attempted`, async () => {
        const asked: string[] = [];
        const p = poster({
          resolve: async (hostname) => {
            asked.push(hostname);
            return [{ address, family: address.includes(':') ? 6 : 4 }];
          },
        });
        const { connects, result } = await countingConnects('https://hooks.customer.test/webhooks', () =>
          p.post({ url: 'https://hooks.customer.test/webhooks', headers: {}, body }),
        );
        const error = rejectionOf(result);
        assert.ok(error instanceof SsrfRefusedError, String(error));
        // The kind of range, never the answer itself: members of the organisation read this message.
        assert.match(error.message, /^refused: hooks\.customer\.test resolves to an? [^;]+ address;/);
        assert.ok(!error.message.includes(address), error.message);
        assert.deepEqual(asked, ['hooks.customer.test'], 'refused after resolution, not by the URL check');
        assert.equal(connects, 0);
        assert.deepEqual(classifyAttempt({ kind: 'error', code: error.code }), {
          verdict: 'give_up',
          reason: 'ssrf_refused',
        });
      });
    }

    it('refuses a hostname when any one of its addresses is internal, even if another is allowed', async () => {
      const mixed: ResolvedAddress[] = [
        { address: '127.0.0.1', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ];
      const p = poster({ ...loopbackAllowed, resolve: async () => mixed });
      const { connects, result } = await countingConnects(`http://rebind.customer.test:${receiver.port}/`, () =>
        p.post({ url: `http://rebind.customer.test:${receiver.port}/`, headers: {}, body }),
      );
      assert.ok(rejectionOf(result) instanceof SsrfRefusedError);
      assert.equal(connects, 0);
      assert.equal(receiver.count(), 0);
    });

    it('refuses an IP-literal URL in a refused range before resolving anything', async () => {
      let resolutions = 0;
      const p = poster({
        resolve: async () => {
          resolutions++;
          return [];
        },
      });
      const { connects, result } = await countingConnects('https://169.254.169.254/latest/meta-data/', () =>
        p.post({ url: 'https://169.254.169.254/latest/meta-data/', headers: {}, body }),
      );
      assert.ok(rejectionOf(result) instanceof SsrfRefusedError);
      assert.equal(resolutions, 0);
      assert.equal(connects, 0);
    });

    it('reports a name that does not resolve as a DNS error, without connecting', async () => {
      const p = poster({
        resolve: async () => {
          throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
        },
      });
      const { connects, result } = await countingConnects('https://missing.customer.test/', () =>
        p.post({ url: 'https://missing.customer.test/', headers: {}, body }),
      );
      const error = rejectionOf(result);
      assert.ok(error instanceof DnsError);
      assert.match(error.message, /could not resolve missing\.customer\.test \(ENOTFOUND\)/);
      assert.equal(connects, 0);
    });
  });

  describe('URL and payload policy', () => {
    it('requires https unless plain http is allowed, and refuses credentials in the URL', async () => {
      const p = poster({ allowCidrs: ['127.0.0.0/8'] });
      await assert.rejects(p.post({ url: receiver.url('/'), headers: {}, body }), InvalidUrlError);
      await assert.rejects(
        poster(loopbackAllowed).post({ url: `http://u:secret@127.0.0.1:${receiver.port}/`, headers: {}, body }),
        (e: Error) => e instanceof InvalidUrlError && !e.message.includes('secret'),
      );
      assert.equal(receiver.count(), 0);
    });

    it('refuses a payload over the limit before connecting', async () => {
      const p = poster({ ...loopbackAllowed, maxPayloadBytes: 1024 });
      await assert.rejects(
        p.post({ url: receiver.url('/'), headers: {}, body: 'x'.repeat(1025) }),
        (e: Error) => e instanceof PayloadTooLargeError && /1025 bytes, over the 1024-byte limit/.test(e.message),
      );
      assert.equal(receiver.count(), 0);
    });

    it('refuses custom headers that would override framing or inject lines', async () => {
      const p = poster(loopbackAllowed);
      for (const name of ['Host', 'content-length', 'Transfer-Encoding'])
        await assert.rejects(p.post({ url: receiver.url('/'), headers: { [name]: 'x' }, body }), TypeError);
      await assert.rejects(p.post({ url: receiver.url('/'), headers: { 'X-Token': 'a\r\nHost: b' }, body }), TypeError);
      assert.equal(receiver.count(), 0);
    });
  });

  describe('responses', () => {
    it('does not follow a redirect: the 3xx is the answer, with where it pointed', async () => {
      receiver.route('/moved', behaviours.redirect(receiver.url('/elsewhere'), 301));
      const response = await poster(loopbackAllowed).post({ url: receiver.url('/moved'), headers: {}, body });
      assert.equal(response.status, 301);
      assert.equal(response.location, receiver.url('/elsewhere'));
      assert.deepEqual(
        receiver.requests.map((r) => r.path),
        ['/moved'],
      );
      assert.equal(classifyAttempt({ kind: 'response', ...response }).verdict, 'retry');
    });

    it('keeps a bounded excerpt of a big body and does not wait for the rest', async () => {
      receiver.route('/big', behaviours.bigBody(20 * 1024 * 1024));
      const started = Date.now();
      const response = await poster(loopbackAllowed).post({ url: receiver.url('/big'), headers: {}, body });
      assert.equal(response.status, 200);
      assert.equal(response.bodyExcerpt, 'x'.repeat(2048));
      assert.equal(response.bodyTruncated, true);
      assert.ok(Date.now() - started < 2000);
    });

    it('keeps a short body whole', async () => {
      receiver.route('/short', behaviours.status(400, '{"error":"unknown event"}'));
      const response = await poster(loopbackAllowed).post({ url: receiver.url('/short'), headers: {}, body });
      assert.equal(response.status, 400);
      assert.equal(response.bodyExcerpt, '{"error":"unknown event"}');
      assert.equal(response.bodyTruncated, false);
    });

    it('captures Retry-After, which classification honours on 429', async () => {
      receiver.route('/busy', behaviours.tooManyRequests('7'));
      const response = await poster(loopbackAllowed).post({ url: receiver.url('/busy'), headers: {}, body });
      assert.equal(response.status, 429);
      assert.equal(response.retryAfter, '7');
      assert.deepEqual(classifyAttempt({ kind: 'response', ...response }), {
        verdict: 'retry',
        reason: 'HTTP 429',
        throttle: true,
        retryAfterMs: 7000,
      });
    });

    it('reports 410 Gone, which classification turns into disabling the endpoint', async () => {
      receiver.route('/gone', behaviours.gone());
      const response = await poster(loopbackAllowed).post({ url: receiver.url('/gone'), headers: {}, body });
      assert.equal(classifyAttempt({ kind: 'response', ...response }).verdict, 'disable_endpoint');
    });

    it('waits for a slow receiver within the timeout', async () => {
      receiver.route('/slow', behaviours.slow(300));
      const response = await poster({ ...loopbackAllowed, timeoutMs: 2000 }).post({
        url: receiver.url('/slow'),
        headers: {},
        body,
      });
      assert.equal(response.status, 200);
      assert.ok(response.durationMs >= 290, `took ${response.durationMs} ms`);
    });

    it('gives up on a receiver that never answers after the timeout', async () => {
      receiver.route('/hang', behaviours.hang());
      const started = Date.now();
      await assert.rejects(
        poster({ ...loopbackAllowed, timeoutMs: 300 }).post({ url: receiver.url('/hang'), headers: {}, body }),
        (e: Error) => e instanceof TimeoutError && /within 300 ms/.test(e.message),
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 290 && elapsed < 1500, `took ${elapsed} ms`);
      assert.equal(receiver.requestsTo('/hang').length, 1);
    });

    it('ends a body still trickling in at the timeout, keeping the status and what arrived', async () => {
      receiver.route('/trickle', behaviours.trickle(['accepted ', 'still ', 'talking ', 'forever'], 250));
      const response = await poster({ ...loopbackAllowed, timeoutMs: 400 }).post({
        url: receiver.url('/trickle'),
        headers: {},
        body,
      });
      assert.equal(response.status, 200);
      assert.equal(response.bodyExcerpt, 'accepted still ');
      assert.equal(response.bodyTruncated, true);
      assert.ok(response.durationMs >= 390 && response.durationMs < 1000, `took ${response.durationMs} ms`);
    });
  });

  describe('connection failures', () => {
    it('reports a closed port as connection refused', async () => {
      const closed = await startReceiver();
      const url = closed.url('/');
      await closed.close();
      await assert.rejects(poster(loopbackAllowed).post({ url, headers: {}, body }), ConnectionRefusedError);
    });

    it('reports a TLS handshake failure as tls', async () => {
      const url = `https://127.0.0.1:${receiver.port}/`;
      await assert.rejects(poster(loopbackAllowed).post({ url, headers: {}, body }), TlsError);
    });

    it('reports a connection dropped without an answer as connection reset', async () => {
      receiver.route('/drop', behaviours.drop());
      await assert.rejects(
        poster(loopbackAllowed).post({ url: receiver.url('/drop'), headers: {}, body }),
        ConnectionResetError,
      );
    });

    it('sends once more on a fresh connection when a reused keep-alive connection turns out dead', async () => {
      // The second request on the kept-alive connection is dropped, as when the receiver closed it while idle.
      receiver.route('/stale', ({ nthOnPath }) => (nthOnPath === 2 ? { drop: true } : { status: 200 }));
      const p = poster(loopbackAllowed);
      assert.equal((await p.post({ url: receiver.url('/stale'), headers: {}, body })).status, 200);
      assert.equal((await p.post({ url: receiver.url('/stale'), headers: {}, body })).status, 200);
      assert.equal(receiver.requestsTo('/stale').length, 3);
    });
  });
});
