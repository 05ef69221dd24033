import { type KeyRing, parseKeyRing } from '../../common/config.ts';

/**
 * Fixed, test-only codec keys (the same key test-env.ts gives the API), so histories recorded by one run can be
 * committed as fixtures and replayed by any later run, and a worker in another process reads the same payloads.
 */
export const TEST_CODEC_KEYS: KeyRing = parseKeyRing(
  `c1:${Buffer.alloc(32, 2).toString('base64')}`,
  undefined,
  'test codec keys',
);
