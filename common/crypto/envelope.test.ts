import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KeyRing } from '../config.ts';
import { EnvelopeError, openJson, rewrapEnvelope, sealJson } from './envelope.ts';

const ring = (active: string, ...ids: string[]): KeyRing => ({
  activeKeyId: active,
  keys: new Map(ids.map((id) => [id, keyBytes[id]!])),
});
const keyBytes: Record<string, Buffer> = { k1: randomBytes(32), k2: randomBytes(32) };
const secret = { apiKey: 'lin_api_0123456789abcdef', workspace: 'acme' };
const context = 'org-1/integration-1';

describe('credential envelopes', () => {
  it('opens what it sealed, naming the active master key', () => {
    const envelope = sealJson(ring('k1', 'k1'), secret, context);
    assert.equal(envelope.v, 1);
    assert.equal(envelope.kid, 'k1');
    assert.deepEqual(openJson(ring('k1', 'k1'), envelope, context), secret);
  });

  it('keeps no plaintext in the envelope, and uses a fresh data key and IV every time', () => {
    const a = sealJson(ring('k1', 'k1'), secret, context);
    const b = sealJson(ring('k1', 'k1'), secret, context);
    assert.ok(!JSON.stringify(a).includes('lin_api'));
    assert.notEqual(a.wrappedKey, b.wrappedKey);
    assert.notEqual(a.ciphertext, b.ciphertext);
  });

  it('refuses to open for another record (an envelope copied to another row)', () => {
    const envelope = sealJson(ring('k1', 'k1'), secret, context);
    assert.throws(() => openJson(ring('k1', 'k1'), envelope, 'org-2/integration-1'), EnvelopeError);
  });

  it('refuses tampered ciphertext or a relabelled key id', () => {
    const keys = ring('k1', 'k1', 'k2');
    const envelope = sealJson(keys, secret, context);
    const flipped = Buffer.from(envelope.ciphertext, 'base64');
    flipped[0]! ^= 1;
    assert.throws(
      () => openJson(keys, { ...envelope, ciphertext: flipped.toString('base64') }, context),
      EnvelopeError,
    );
    assert.throws(() => openJson(keys, { ...envelope, kid: 'k2' }, context), EnvelopeError);
  });

  it('names a master key that is missing from the ring', () => {
    const envelope = sealJson(ring('k2', 'k2'), secret, context);
    assert.throws(() => openJson(ring('k1', 'k1'), envelope, context), /master key "k2"/);
  });

  it('re-wraps under the new active key without touching the payload', () => {
    const envelope = sealJson(ring('k1', 'k1'), secret, context);
    const rewrapped = rewrapEnvelope(ring('k2', 'k1', 'k2'), envelope, context);
    assert.equal(rewrapped.kid, 'k2');
    assert.equal(rewrapped.ciphertext, envelope.ciphertext);
    assert.deepEqual(openJson(ring('k2', 'k2'), rewrapped, context), secret);
  });
});
