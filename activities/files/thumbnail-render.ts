// The work of a thumbnail, run by the pool's worker threads (thumbnail-worker.ts). Nothing here checks the declared
// size first: the pool does that on the calling thread, before any byte reaches a decoder (the JPEG decoder checks
// its frame header again).
//
// jimp does the thumbnail: resize, orientation, encoding, and decoding PNG, GIF and BMP. A JPEG is decoded by
// libjpeg compiled to WebAssembly instead (jpeg-wasm.ts): jimp's own decoder, jpeg-js, is pure JavaScript and took
// about 1 s of a 12 MP photo's 1.1-1.3 s; the wasm one about 0.17 s. A CMYK JPEG, which libjpeg
// will not turn into RGB, still goes to jpeg-js. Two more departures from jimp's plain read → scaleToFit → write,
// both measured by bench/thumbnails.ts on a 12 MP photo:
// - EXIF orientation is applied to the thumbnail, not the decoded photo. jimp turns the full-size bitmap on read,
//   pixel by pixel through a closure (about 0.8 s of a 12 MP render here); we turn the 256 px result instead.
// - A JPEG is first reduced by an integer factor with a box filter (an average over k x k blocks), down to at least
//   twice the thumbnail, and jimp's resize does the rest: the same area averaging, a fraction of the time.
import type { MessagePort } from 'node:worker_threads';
import { Jimp } from 'jimp';
import { jpegFrame, jpegOrientation, jpegSegments } from './image-header.ts';
import { decodeJpeg, JpegOutOfMemoryError } from './jpeg-wasm.ts';
import {
  ownedBytes,
  type ThumbnailJob,
  type ThumbnailMime,
  type ThumbnailReply,
  type ThumbnailResult,
  type WorkerReady,
} from './thumbnail-protocol.ts';

export const JPEG_QUALITY = 80;

type Image = Awaited<ReturnType<typeof Jimp.fromBuffer>>;
type Bitmap = Image['bitmap'];

/**
 * Decodes, shrinks to fit size x size (never enlarges), turns upright from the EXIF orientation and encodes: PNG
 * when the thumbnail has transparent pixels, else JPEG. Runs on the calling thread: the pool calls it in its
 * workers; the benchmark and a test call it directly.
 */
export async function renderInProcess(
  input: Buffer,
  size: number,
  maxPixels: number,
  options: { jpegDecoder?: JpegDecoder } = {},
): Promise<ThumbnailResult> {
  const { image, jpeg } = await decode(input, maxPixels, options.jpegDecoder ?? 'wasm');
  const orientation = jpeg ? (jpegOrientation(input) ?? 1) : 1;
  const target = fitWithin(image.width, image.height, size);
  if (target.width !== image.width || target.height !== image.height) {
    // A JPEG has no transparency, so a plain average of its pixels is right; others would need alpha weighting.
    const factor = Math.floor(Math.min(image.width / (2 * target.width), image.height / (2 * target.height)));
    if (jpeg && factor >= 2) image.bitmap = boxShrink(image.bitmap, factor);
    image.resize({ w: target.width, h: target.height });
  }
  orient(image, orientation);
  const mime: ThumbnailMime = hasTransparency(image.bitmap.data) ? 'image/png' : 'image/jpeg';
  const bytes =
    mime === 'image/png' ? await image.getBuffer(mime) : await image.getBuffer(mime, { quality: JPEG_QUALITY });
  return { bytes, mime, width: image.width, height: image.height };
}

/** Which decoder reads a JPEG: libjpeg in wasm (the default), or jimp's jpeg-js (the benchmark's reference). */
export type JpegDecoder = 'wasm' | 'jpeg-js';

async function decode(
  input: Buffer,
  maxPixels: number,
  jpegDecoder: JpegDecoder,
): Promise<{ image: Image; jpeg: boolean }> {
  const isJpeg = input.length >= 3 && input[0] === 0xff && input[1] === 0xd8 && input[2] === 0xff;
  if (isJpeg && jpegDecoder === 'wasm' && jpegFrame(input)?.components !== 4) {
    // libjpeg ignores EXIF (the orientation is read above and applied to the thumbnail). fromBitmap wraps the
    // whole ArrayBuffer of a Uint8ClampedArray, which here is exactly the pixels, without copying them.
    const { data, width, height } = await decodeJpeg(input, maxPixels);
    return { image: Jimp.fromBitmap({ data, width, height }), jpeg: true };
  }
  // jimp would turn the full-size bitmap from the EXIF orientation on read: hide the segment from it.
  const image = await Jimp.fromBuffer(isJpeg ? withoutExif(input) : input, {
    // jpeg-js checks each frame header it meets against its own limit (100 MP by default): make it ours, a second
    // guard behind the pool's header check, which reads only the frame headers before the first scan.
    'image/jpeg': { maxResolutionInMP: maxPixels / 1_000_000 },
  });
  return { image, jpeg: image.mime === 'image/jpeg' };
}

/** As jimp's scaleToFit rounds, without enlarging. */
function fitWithin(width: number, height: number, size: number) {
  if (width <= size && height <= size) return { width, height };
  const f = Math.min(size / width, size / height);
  return { width: Math.round(width * f) || 1, height: Math.round(height * f) || 1 };
}

// A copy whose APP1 segments are APP12: jpeg-js skips both, and exif-parser (jimp's EXIF reader) looks at APP1 only.
function withoutExif(input: Buffer): Buffer {
  const copy = Buffer.from(input);
  jpegSegments(copy, (marker, at) => {
    if (marker === 0xe1) copy[at + 1] = 0xec;
  });
  return copy;
}

/** Averages k x k blocks; the last columns and rows (fewer than k) are left out, under 0.2 % of a 12 MP photo. */
function boxShrink(source: Bitmap, k: number): Bitmap {
  const { width } = source;
  // A plain Uint8Array view: V8 optimises its element loads better than a Buffer's in this hot loop.
  const data = new Uint8Array(source.data.buffer, source.data.byteOffset, source.data.length);
  const w = Math.floor(width / k);
  const h = Math.floor(source.height / k);
  const rowLength = w * 4;
  const out = Buffer.alloc(rowLength * h);
  const sums = new Uint32Array(rowLength);
  const area = k * k;
  for (let oy = 0; oy < h; oy++) {
    sums.fill(0);
    for (let dy = 0; dy < k; dy++) {
      let i = (oy * k + dy) * width * 4;
      for (let s = 0; s < rowLength; s += 4) {
        let r = 0;
        let g = 0;
        let b = 0;
        let a = 0;
        for (let dx = 0; dx < k; dx++, i += 4) {
          r += data[i]!;
          g += data[i + 1]!;
          b += data[i + 2]!;
          a += data[i + 3]!;
        }
        sums[s]! += r;
        sums[s + 1]! += g;
        sums[s + 2]! += b;
        sums[s + 3]! += a;
      }
    }
    const row = oy * rowLength;
    for (let s = 0; s < rowLength; s++) out[row + s] = ((sums[s]! + (area >> 1)) / area) | 0;
  }
  return { data: out, width: w, height: h };
}

/** Turns the stored pixels the way EXIF orientation 1-8 says they are to be shown (jimp's rotate(90) is anticlockwise). */
function orient(image: Image, orientation: number): void {
  if (orientation === 2) image.flip({ horizontal: true });
  else if (orientation === 3) image.rotate(180);
  else if (orientation === 4) image.flip({ vertical: true });
  else if (orientation === 5) image.rotate(-90).flip({ horizontal: true });
  else if (orientation === 6) image.rotate(-90);
  else if (orientation === 7) image.rotate(-90).flip({ vertical: true });
  else if (orientation === 8) image.rotate(90);
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
    return { reply: { id: job.id, ok: false, refused: !mayPassOnRetry(error), message }, transfer: [] };
  }
}

/**
 * Whether a failed render may succeed another time: running out of memory, JavaScript's (a RangeError) or the wasm
 * decoder's, is about the process at that moment. Anything else a decoder throws is about these bytes and would
 * recur on every attempt: a refusal.
 */
export function mayPassOnRetry(error: unknown): boolean {
  if (error instanceof JpegOutOfMemoryError) return true;
  return error instanceof RangeError && /allocation failed|out of memory/i.test(error.message);
}

/** A worker's loop: one job at a time, as the pool sends them. */
export function serveThumbnailJobs(port: MessagePort): void {
  port.on('message', async (job: ThumbnailJob) => {
    const { reply, transfer } = await answer(job);
    port.postMessage(reply, transfer);
  });
  port.postMessage({ ready: true } satisfies WorkerReady);
}
