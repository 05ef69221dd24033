// Password guessing: limited per client address (by the address Express trusts, never by a header the client
// makes up) and per account-and-address pair, so an attacker can neither guess on without end nor lock the owner out.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { session } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { authConfig } from '../../common/config.ts';
import { createTestOrganization, startTestApi, type TestApi, type TestUser } from '../../test/support/api.ts';
import { truncateAll } from '../../test/support/database.ts';
import { FREE_FAILURES, lockAfter } from './sign-in-backoff.ts';

type Answer = { status: number; retryAfter: string | undefined; userId: string | undefined };

/** POST /api/auth/sign-in/email from a chosen local address (127.0.0.0/8 is all loopback on Linux). */
function signInFrom(
  api: TestApi,
  from: string,
  body: { email: string; password: string },
  headers: Record<string, string> = {},
): Promise<Answer> {
  const url = new URL('/api/auth/sign-in/email', api.baseUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: { 'content-type': 'application/json', origin: api.baseUrl, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let userId: string | undefined;
          try {
            userId = (JSON.parse(text) as { user?: { id?: string } }).user?.id;
          } catch {
            userId = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] as string | undefined,
            userId,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const randomAddress = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function guess(api: TestApi, victim: TestUser, from: string, forwardedFor: (i: number) => string) {
  const counts = new Map<number, number>();
  for (let i = 0; i < 500; i++) {
    const answer = await signInFrom(
      api,
      from,
      { email: victim.email, password: `guess-number-${i}` },
      { 'x-forwarded-for': forwardedFor(i) },
    );
    counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
  }
  return counts;
}

describe('sign-in limits', function () {
  this.timeout(120_000);
  after(() => truncateAll());

  it('backs off longer with each failure past the free ones, up to 15 minutes', () => {
    assert.deepEqual(
      Array.from({ length: FREE_FAILURES + 2 }, (_, i) => lockAfter(i)),
      [0, 0, 0, 0, 0, 30_000, 60_000],
    );
    assert.equal(lockAfter(40), 15 * 60_000);
  });

  describe('with no proxy trusted (the default)', () => {
    let api: TestApi;
    before(async () => {
      await truncateAll();
      api = await startTestApi({ config: { auth: authConfig({}) } });
    });
    after(() => api.close());

    it('limits 500 guesses with a fresh X-Forwarded-For each, and the owner still signs in from another address', async () => {
      const victim = await createTestOrganization({ api });
      const counts = await guess(api, victim, '127.0.0.3', (i) => randomAddress(i));
      const checked = counts.get(401) ?? 0;
      assert.ok(checked <= FREE_FAILURES, `${checked} guesses reached the password check: ${[...counts]}`);
      assert.equal(counts.get(429), 500 - checked, `every other guess is refused unchecked: ${[...counts]}`);

      // Even the right password is not checked from the guessing address while it backs off…
      const locked = await signInFrom(api, '127.0.0.3', { email: victim.email, password: victim.password });
      assert.equal(locked.status, 429);
      assert.match(locked.retryAfter ?? '', /^\d+$/);
      // …but the owner, from their own address, is not locked out.
      const owner = await signInFrom(api, '127.0.0.4', { email: victim.email, password: victim.password });
      assert.equal(owner.status, 200);
      assert.equal(owner.userId, victim.userId);
    });
  });

  describe('behind one appending proxy (TRUST_PROXY=1)', () => {
    let api: TestApi;
    before(async () => {
      await truncateAll();
      api = await startTestApi({ config: { auth: authConfig({ TRUST_PROXY: '1' }) } });
    });
    after(() => api.close());

    it('counts each client by the address the proxy appended, not what the client put before it', async () => {
      const victim = await createTestOrganization({ api });
      // The proxy appends the attacker's real address after whatever the attacker sent.
      const counts = await guess(api, victim, '127.0.0.5', (i) => `${randomAddress(i)}, 203.0.113.50`);
      const checked = counts.get(401) ?? 0;
      assert.ok(checked <= FREE_FAILURES, `${checked} guesses reached the password check: ${[...counts]}`);
      assert.equal(counts.get(429), 500 - checked);

      // Another client behind the same proxy has a bucket of its own, and its session records its address.
      const owner = await signInFrom(
        api,
        '127.0.0.5',
        { email: victim.email, password: victim.password },
        { 'x-forwarded-for': '198.51.100.7' },
      );
      assert.equal(owner.status, 200);
      const sessions = await api.deps.db.select().from(session).where(eq(session.userId, victim.userId));
      assert.ok(
        sessions.some((s) => s.ipAddress === '198.51.100.7'),
        JSON.stringify(sessions.map((s) => s.ipAddress)),
      );
    });
  });
});
