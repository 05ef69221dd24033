import { randomBytes } from 'node:crypto';

/**
 * Printable ASCII of the given size: text/plain to the upload's type check, and nothing a compressor could shrink.
 * The files benchmark's uploads and its raw put (in its own process) send the same kind of bytes.
 */
export function textBytes(size: number): Buffer {
  const bytes = randomBytes(size);
  for (let i = 0; i < size; i++) bytes[i] = 32 + (bytes[i]! % 95);
  return bytes;
}
