import assert from 'node:assert/strict';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import {
  generateSecret,
  InvalidWebhookSecretError,
  isValidSecret,
  maskSecret,
  parseSecret,
  secretsInEffect,
  sign,
} from './standard-webhooks.ts';

// Verification is done by the `standardwebhooks` package, a verifier we did not write.
describe('Standard Webhooks signing', () => {
  const body = JSON.stringify({ type: 'ticket.created', data: { id: 't_1', title: 'Printer on fire ✓' } });
  const now = () => Math.floor(Date.now() / 1000);

  it('reproduces the published test vector of the Standard Webhooks reference library', () => {
    const headers = sign({
      msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    assert.deepEqual(headers, {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('produces headers the standardwebhooks verifier accepts, for a string or a byte body', () => {
    const secret = generateSecret();
    const verifier = new Webhook(secret);
    assert.deepEqual(
      verifier.verify(body, sign({ msgId: 'msg_1', timestamp: now(), body, secrets: [secret] })),
      JSON.parse(body),
    );
    const bytes = Buffer.from(body);
    assert.deepEqual(
      verifier.verify(bytes, sign({ msgId: 'msg_1', timestamp: new Date(), body: bytes, secrets: [secret] })),
      JSON.parse(body),
    );
  });

  it('during a rotation signs with both secrets, so receivers holding either one accept the delivery', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const headers = sign({ msgId: 'msg_rot', timestamp: now(), body, secrets: [newSecret, oldSecret] });
    assert.equal(headers['webhook-signature'].split(' ').length, 2);
    assert.ok(headers['webhook-signature'].split(' ').every((s) => s.startsWith('v1,')));
    new Webhook(oldSecret).verify(body, headers);
    new Webhook(newSecret).verify(body, headers);
    assert.throws(() => new Webhook(generateSecret()).verify(body, headers), WebhookVerificationError);
  });

  it('is rejected by the verifier when the body, id or timestamp is altered', () => {
    const secret = generateSecret();
    const verifier = new Webhook(secret);
    const headers = sign({ msgId: 'msg_2', timestamp: now(), body, secrets: [secret] });
    assert.throws(() => verifier.verify(`${body} `, headers), WebhookVerificationError);
    assert.throws(() => verifier.verify(body, { ...headers, 'webhook-id': 'msg_3' }), WebhookVerificationError);
    assert.throws(
      () => verifier.verify(body, { ...headers, 'webhook-timestamp': String(now() - 1) }),
      WebhookVerificationError,
    );
  });

  it('keeps the webhook-id and body across retries while the timestamp and signature follow the attempt', () => {
    const secret = generateSecret();
    const first = sign({ msgId: 'msg_retry', timestamp: 1_700_000_000, body, secrets: [secret] });
    const second = sign({ msgId: 'msg_retry', timestamp: 1_700_000_005, body, secrets: [secret] });
    assert.equal(first['webhook-id'], second['webhook-id']);
    assert.notEqual(first['webhook-signature'], second['webhook-signature']);
  });

  it('refuses a message id containing "." and timestamps that are not whole Unix seconds', () => {
    const secrets = [generateSecret()];
    assert.throws(() => sign({ msgId: 'msg.1', timestamp: 1, body, secrets }), /no "\."/);
    assert.throws(() => sign({ msgId: '', timestamp: 1, body, secrets }), /non-empty/);
    assert.throws(() => sign({ msgId: 'msg_1', timestamp: 1.5, body, secrets }), /whole number/);
    assert.throws(() => sign({ msgId: 'msg_1', timestamp: 1, body, secrets: [] }), /at least one/);
  });
});

describe('webhook secrets', () => {
  it('are whsec_ followed by the base64 of 32 random bytes, different every time', () => {
    const a = generateSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(parseSecret(a).length, 32);
    assert.notEqual(a, generateSecret());
  });

  it('are accepted from 24 to 64 bytes and refused outside that range without echoing the secret', () => {
    const of = (n: number) => `whsec_${Buffer.alloc(n, 9).toString('base64')}`;
    assert.ok(isValidSecret(of(24)));
    assert.ok(isValidSecret(of(64)));
    assert.throws(() => parseSecret(of(23)), /24-64 bytes, got 23/);
    assert.throws(() => parseSecret(of(65)), /24-64 bytes, got 65/);
    assert.throws(() => parseSecret(of(32).slice('whsec_'.length)), InvalidWebhookSecretError);
    assert.throws(() => parseSecret('whsec_not base64!!'), /standard base64/);
    assert.throws(
      () => parseSecret('whsec_c2VjcmV0'),
      (e: Error) => !e.message.includes('c2VjcmV0'),
    );
  });

  it('are masked to their prefix and four characters', () => {
    const secret = generateSecret();
    const masked = maskSecret(secret);
    assert.equal(masked, `${secret.slice(0, 10)}••••••••`);
    assert.ok(!masked.includes(secret.slice(10)));
    assert.equal(maskSecret('garbage'), 'whsec_••••••••');
  });

  it('in effect are the current one, plus the previous one until its overlap window ends', () => {
    const keys = { current: 'whsec_new', previous: { secret: 'whsec_old', validUntil: 1_000 } };
    assert.deepEqual(secretsInEffect(keys, 999), ['whsec_new', 'whsec_old']);
    assert.deepEqual(secretsInEffect(keys, 1_000), ['whsec_new']);
    assert.deepEqual(secretsInEffect({ current: 'whsec_new' }, 0), ['whsec_new']);
  });
});
