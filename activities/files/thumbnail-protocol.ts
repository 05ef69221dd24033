// The messages between the thumbnail pool (thumbnail.ts) and its worker threads (thumbnail-worker.ts), and the
// rule for moving bytes between them without copying. No jimp here: the calling thread never loads it.
import { isMarkedAsUntransferable } from 'node:worker_threads';

export type ThumbnailMime = 'image/jpeg' | 'image/png';
export type ThumbnailResult = { bytes: Buffer; mime: ThumbnailMime; width: number; height: number };

export type ThumbnailJob = { id: number; input: Uint8Array; size: number; maxPixels: number };
export type ThumbnailReply =
  | { id: number; ok: true; bytes: Uint8Array; mime: ThumbnailMime; width: number; height: number }
  | { id: number; ok: false; refused: boolean; message: string };
/** The first message of a worker: jimp is loaded, jobs may come (their timeout does not pay for the start). */
export type WorkerReady = { ready: true };

/** Whether these bytes' ArrayBuffer is theirs alone and may be transferred (moved) to another thread. */
export function isTransferable(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer;
  return (
    buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength &&
    !isMarkedAsUntransferable(buffer)
  );
}

/** Bytes that can be transferred: these, or a copy when they are a view into a larger, pooled or shared buffer. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return isTransferable(bytes) ? bytes : new Uint8Array(bytes);
}
