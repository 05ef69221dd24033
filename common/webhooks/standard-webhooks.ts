// Standard Webhooks (https://www.standardwebhooks.com) symmetric signing: what we send so that any
// receiver using a Standard Webhooks library can verify a delivery without knowing us.
import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** Bytes of entropy in secrets we generate. */
export const SECRET_BYTES = 32;
/** The spec allows 24 to 64 bytes; secrets outside that range are refused rather than silently weak. */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
/** How long deliveries keep carrying the old secret's signature after a rotation, by default. */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export class InvalidWebhookSecretError extends Error {
  override name = 'InvalidWebhookSecretError';
}

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The key bytes of a `whsec_` secret. Error messages describe the problem, never the secret itself,
 * because they end up in API responses and logs.
 */
export function parseSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new InvalidWebhookSecretError(`secret must start with ${SECRET_PREFIX}`);
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded.length % 4 !== 0 || !base64Pattern.test(encoded))
    throw new InvalidWebhookSecretError(`secret after ${SECRET_PREFIX} must be standard base64`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES)
    throw new InvalidWebhookSecretError(
      `secret must decode to ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES} bytes, got ${key.length}`,
    );
  return key;
}

export function isValidSecret(secret: string): boolean {
  try {
    parseSecret(secret);
    return true;
  } catch {
    return false;
  }
}

/** Enough to tell two secrets apart in a list (4 base64 characters = 24 of 256 bits), never enough to use one. */
export function maskSecret(secret: string): string {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : '';
  return `${SECRET_PREFIX}${encoded.slice(0, 4)}${'•'.repeat(8)}`;
}

/**
 * HMAC keys by secret. Turning raw bytes into an OpenSSL key costs about 20 µs per HMAC, four times the HMAC itself,
 * and at a thousand deliveries a second to a few hundred endpoints the same secrets come back constantly. Bounded:
 * the oldest entry goes first; it holds nothing the worker does not already hold decrypted.
 */
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_SIZE = 10_000;

function signingKey(secret: string): KeyObject {
  let key = keyCache.get(secret);
  if (key === undefined) {
    key = createSecretKey(parseSecret(secret));
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(secret, key);
  }
  return key;
}

export type SignInput = {
  /** Stable across every retry of one message: receivers use it as their idempotency key. */
  msgId: string;
  /** When this attempt is sent: Unix seconds or a Date (receivers reject stale timestamps). */
  timestamp: number | Date;
  /** Exactly the bytes that will be sent: a re-serialised body would not verify. */
  body: string | Uint8Array;
  /** Current secret first; during a rotation overlap, the previous one too. */
  secrets: readonly string[];
};

export function sign({ msgId, timestamp, body, secrets }: SignInput): WebhookHeaders {
  // The signed content is "id.timestamp.body": a "." inside the id would let one (id, timestamp) pair
  // impersonate another, which is why the spec forbids it.
  if (msgId === '' || msgId.includes('.')) throw new Error('webhook message id must be non-empty and contain no "."');
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0)
    throw new Error('webhook timestamp must be a non-negative whole number of Unix seconds');
  if (secrets.length === 0) throw new Error('at least one signing secret is required');

  const prefix = `${msgId}.${seconds}.`;
  const signatures = secrets.map((secret) => {
    const hmac = createHmac('sha256', signingKey(secret));
    hmac.update(prefix);
    hmac.update(body);
    return `v1,${hmac.digest('base64')}`;
  });
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signatures.join(' '),
  };
}

export type SigningKeys = {
  current: string;
  /** The secret replaced by the last rotation, and until when deliveries still carry its signature. */
  previous?: { secret: string; validUntil: number };
};

/**
 * The secrets a delivery made at `now` (epoch ms) is signed with. `now` is a parameter so workflow code
 * can pass its deterministic clock.
 */
export function secretsInEffect(keys: SigningKeys, now: number): string[] {
  return keys.previous && now < keys.previous.validUntil ? [keys.current, keys.previous.secret] : [keys.current];
}
