// AES-256-GCM payload codec for Temporal: ticket content and anything else a workflow carries is
// stored encrypted in Temporal's history. The key id travels in the payload metadata so keys can rotate:
// new payloads use the active key, old ones decode with whichever key they name.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { KeyRing } from './config.ts';

const ENCODING = 'binary/encrypted';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: KeyRing;
  constructor(keys: KeyRing) {
    this.keys = keys;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.activeKeyId;
    const key = this.keys.keys.get(keyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = Buffer.from(JSON.stringify(toJson(payload)));
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: encoder.encode(ENCODING), 'encryption-key-id': encoder.encode(keyId) },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding && decoder.decode(payload.metadata.encoding);
      if (encoding !== ENCODING) return payload;
      const keyIdBytes = payload.metadata?.['encryption-key-id'];
      const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
      const key = this.keys.keys.get(keyId);
      if (!key) throw new Error(`payload encrypted with unknown key id "${keyId}"`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const iv = data.subarray(0, 12);
      const tag = data.subarray(data.length - 16);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      return fromJson(JSON.parse(plain.toString('utf8')));
    });
  }
}

type JsonPayload = { metadata: Record<string, string>; data: string };

function toJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload.metadata ?? {})) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function fromJson(json: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(json.metadata)) metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  return { metadata, data: new Uint8Array(Buffer.from(json.data, 'base64')) };
}
