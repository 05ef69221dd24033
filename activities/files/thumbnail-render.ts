// The jimp work of a thumbnail, and the message protocol between the pool (thumbnail.ts) and its worker threads
// (thumbnail-worker.ts). Nothing here checks the input's declared size: the pool does that on the calling thread,
// before any byte reaches a decoder.
import type { MessagePort } from 'node:worker_threads';
import { isMarkedAsUntransferable } from 'node:worker_threads';
import { Jimp } from 'jimp';

export type ThumbnailMime = 'image/jpeg' | 'image/png';
export type ThumbnailResult = { bytes: Buffer; mime: ThumbnailMime; width: number; height: number };

export const JPEG_QUALITY = 80;

export type ThumbnailJob = { id: number; input: Uint8Array; size: number; maxPixels: number };
export type ThumbnailReply =
  | { id: number; ok: true; bytes: Uint8Array; mime: ThumbnailMime; width: number; height: number }
  | { id: number; ok: false; refused: boolean; message: string };
/** The first message of a worker: jimp is loaded, jobs may come (their timeout does not pay for the start). */
export type WorkerReady = { ready: true };

/**
 * Decodes, turns upright from the EXIF orientation (jimp does it in fromBuffer), shrinks to fit size x size (never
 * enlarges) and encodes: PNG when the thumbnail has transparent pixels, else JPEG. Runs on the calling thread: the
 * pool calls it in its workers; the benchmark calls it directly to measure what the pool costs.
 */
export async function renderInProcess(input: Buffer, size: number, maxPixels: number): Promise<ThumbnailResult> {
  const image = await Jimp.fromBuffer(input, {
    // jpeg-js checks each frame header it meets against its own limit (100 MP by default): make it ours, a second
    // guard behind the pool's header check, which reads only the frame headers before the first scan.
    'image/jpeg': { maxResolutionInMP: maxPixels / 1_000_000 },
  });
  if (image.width > size || image.height > size) image.scaleToFit({ w: size, h: size });
  const mime: ThumbnailMime = hasTransparency(image.bitmap.data) ? 'image/png' : 'image/jpeg';
  const bytes =
    mime === 'image/png' ? await image.getBuffer(mime) : await image.getBuffer(mime, { quality: JPEG_QUALITY });
  return { bytes, mime, width: image.width, height: image.height };
}

// Judged on the thumbnail, not the source's colour type: an RGBA PNG whose pixels are all opaque (common for
// screenshots) gets the smaller JPEG, and a GIF's transparent index shows up here whatever the header says.
function hasTransparency(rgba: Buffer): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i]! < 255) return true;
  return false;
}

/** What a worker answers to one job, with the buffers to transfer rather than copy. */
export async function answer(job: ThumbnailJob): Promise<{ reply: ThumbnailReply; transfer: ArrayBuffer[] }> {
  try {
    const input = Buffer.from(job.input.buffer, job.input.byteOffset, job.input.byteLength);
    const result = await renderInProcess(input, job.size, job.maxPixels);
    const bytes = ownedBytes(result.bytes);
    const { mime, width, height } = result;
    return { reply: { id: job.id, ok: true, bytes, mime, width, height }, transfer: [bytes.buffer as ArrayBuffer] };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A decoder's error is about these bytes and will recur on every attempt; running out of memory may not.
    const refused = !(error instanceof RangeError && /allocation failed|out of memory/i.test(message));
    return { reply: { id: job.id, ok: false, refused, message }, transfer: [] };
  }
}

/** Bytes whose ArrayBuffer is theirs alone, so it can be transferred (a pooled or shared one is copied once). */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return isTransferable(bytes) ? bytes : new Uint8Array(bytes);
}

export function isTransferable(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer;
  return (
    buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength &&
    !isMarkedAsUntransferable(buffer)
  );
}

/** A worker's loop: one job at a time, as the pool sends them. */
export function serveThumbnailJobs(port: MessagePort): void {
  port.on('message', async (job: ThumbnailJob) => {
    const { reply, transfer } = await answer(job);
    port.postMessage(reply, transfer);
  });
  port.postMessage({ ready: true } satisfies WorkerReady);
}
