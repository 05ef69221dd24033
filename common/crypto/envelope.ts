// Envelope encryption for integration credentials. Each record gets its own random 256-bit data key
// that encrypts the credentials (AES-256-GCM); the data key is stored wrapped (AES-256-GCM) by a master
// key from the key ring, named by its key id. Rotating master keys therefore re-wraps 32-byte data keys
// and never touches the payloads, and a leaked data key exposes one record.
//
// Both layers authenticate a context string (AAD) naming the record the envelope belongs to: an
// envelope copied into another row, or another organisation, fails to open instead of leaking there.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CredentialEnvelope } from '@switchboard/database';
import type { KeyRing } from '../config.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when an envelope cannot be opened: unknown key id, wrong record, or tampered bytes. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

export function sealJson(keys: KeyRing, value: unknown, context: string): CredentialEnvelope {
  const dataKey = randomBytes(32);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    cipher.setAAD(payloadAad(context));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return {
      v: 1,
      kid: keys.activeKeyId,
      wrappedKey: wrapDataKey(keys, keys.activeKeyId, dataKey, context),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  } finally {
    dataKey.fill(0);
  }
}

export function openJson(keys: KeyRing, envelope: CredentialEnvelope, context: string): unknown {
  const dataKey = unwrapDataKey(keys, envelope, context);
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(envelope.iv, 'base64'));
    decipher.setAAD(payloadAad(context));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    throw new EnvelopeError(`credentials do not decrypt for ${context} (wrong record or tampered)`);
  } finally {
    dataKey.fill(0);
  }
}

/** Wraps the envelope's data key with the ring's active master key; the payload is left as it is. */
export function rewrapEnvelope(keys: KeyRing, envelope: CredentialEnvelope, context: string): CredentialEnvelope {
  const dataKey = unwrapDataKey(keys, envelope, context);
  try {
    return { ...envelope, kid: keys.activeKeyId, wrappedKey: wrapDataKey(keys, keys.activeKeyId, dataKey, context) };
  } finally {
    dataKey.fill(0);
  }
}

const payloadAad = (context: string) => Buffer.from(`switchboard/credentials/v1/payload/${context}`);
// The key id is authenticated too, so a wrapped key relabelled with another kid does not unwrap.
const wrapAad = (kid: string, context: string) => Buffer.from(`switchboard/credentials/v1/data-key/${kid}/${context}`);

function masterKey(keys: KeyRing, kid: string): Buffer {
  const key = keys.keys.get(kid);
  if (!key) throw new EnvelopeError(`credentials are wrapped with master key "${kid}", which is not in the key ring`);
  return key;
}

function wrapDataKey(keys: KeyRing, kid: string, dataKey: Buffer, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey(keys, kid), iv);
  cipher.setAAD(wrapAad(kid, context));
  const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, wrapped, cipher.getAuthTag()]).toString('base64');
}

function unwrapDataKey(keys: KeyRing, envelope: CredentialEnvelope, context: string): Buffer {
  if (envelope.v !== 1) throw new EnvelopeError(`unknown credential envelope version ${String(envelope.v)}`);
  const key = masterKey(keys, envelope.kid);
  const bytes = Buffer.from(envelope.wrappedKey, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(wrapAad(envelope.kid, context));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new EnvelopeError(`credentials do not decrypt for ${context} (wrong record or tampered)`);
  }
}
