// Thumbnails of raster attachments (issue 10): 256 px, EXIF orientation honoured, rendered by jimp in a small pool of
// worker threads so that a 12-megapixel JPEG (seconds of synchronous decoding in pure JavaScript) never stalls the
// activity worker's event loop. The declared dimensions are checked on the calling thread before any decoder sees
// a byte: a decompression bomb costs a header read, not gigabytes.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  isTransferable,
  type ThumbnailJob,
  type ThumbnailReply,
  type ThumbnailResult,
  type WorkerReady,
} from './thumbnail-render.ts';

export type { ThumbnailMime, ThumbnailResult } from './thumbnail-render.ts';

export type Dimensions = { width: number; height: number };

export type ThumbnailOptions = {
  /** The thumbnail fits in size x size (default 256); a smaller image keeps its size. */
  size?: number;
  /** Refuse an image whose header declares more pixels than this (default MAX_THUMBNAIL_PIXELS). */
  maxPixels?: number;
  /** From the moment a worker takes the job (default 30 s); the worker is then stopped and replaced. */
  timeoutMs?: number;
  /** Reads the declared dimensions from the image's bytes; undefined when it cannot. Default: headerDimensions. */
  dimensionsOf?: (head: Buffer) => Dimensions | undefined;
  /**
   * Hand the input's memory to the worker instead of copying it, when the Buffer owns its whole ArrayBuffer (a
   * file read with fs.readFile does; a slice of a pooled one is copied). The input is empty afterwards.
   */
  transferInput?: boolean;
};

export type ThumbnailPoolOptions = {
  /** Worker threads (default: one fewer than the cores, at least one). Started on demand, replaced when one dies. */
  workers?: number;
  /** The worker script; tests substitute one that crashes on demand. */
  workerScript?: URL;
};

export const DEFAULT_THUMBNAIL_SIZE = 256;
/** 50 MP: beyond any phone camera, and 200 MB of RGBA once decoded. */
export const MAX_THUMBNAIL_PIXELS = 50_000_000;
export const DEFAULT_THUMBNAIL_TIMEOUT_MS = 30_000;

/** The bytes cannot be made into a thumbnail, now or on any retry: not an image jimp reads, or too many pixels. */
export class ThumbnailRefusedError extends Error {
  override name = 'ThumbnailRefusedError';
}

/** The worker rendering the job timed out or died. The pool has replaced it; another attempt may succeed. */
export class ThumbnailWorkerError extends Error {
  override name = 'ThumbnailWorkerError';
  readonly reason: 'timeout' | 'crashed';
  constructor(reason: 'timeout' | 'crashed', message: string) {
    super(message);
    this.reason = reason;
  }
}

type Pending = {
  job: ThumbnailJob;
  transfer: ArrayBuffer[];
  timeoutMs: number;
  resolve: (result: ThumbnailResult) => void;
  reject: (error: Error) => void;
};

type Slot = {
  worker: Worker;
  ready: boolean;
  running?: Pending;
  timer?: NodeJS.Timeout;
  /** An uncaught error the worker reported before exiting. */
  error?: Error;
};

export class ThumbnailPool {
  readonly #workers: number;
  readonly #script: URL;
  readonly #slots = new Set<Slot>();
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: ThumbnailPoolOptions = {}) {
    this.#workers = options.workers ?? Math.max(1, availableParallelism() - 1);
    if (!Number.isInteger(this.#workers) || this.#workers < 1)
      throw new Error(`thumbnail pool: workers must be a whole number of at least 1, not ${options.workers}`);
    this.#script = options.workerScript ?? new URL('./thumbnail-worker.ts', import.meta.url);
  }

  /** Refuses at once (ThumbnailRefusedError) what the header rules out; everything else is decoded in a worker. */
  render(input: Buffer, options: ThumbnailOptions = {}): Promise<ThumbnailResult> {
    if (this.#closed) return Promise.reject(new Error('thumbnail pool is closed'));
    const size = options.size ?? DEFAULT_THUMBNAIL_SIZE;
    const maxPixels = options.maxPixels ?? MAX_THUMBNAIL_PIXELS;
    const timeoutMs = options.timeoutMs ?? DEFAULT_THUMBNAIL_TIMEOUT_MS;
    if (!Number.isInteger(size) || size < 1 || size > 4096)
      return Promise.reject(new RangeError(`thumbnail size must be a whole number from 1 to 4096, not ${size}`));
    try {
      checkBeforeDecoding(input, maxPixels, options.dimensionsOf ?? headerDimensions);
    } catch (error) {
      return Promise.reject(error);
    }
    // Either way the worker gets exactly the image's bytes, in one move: posting a view would copy its whole
    // ArrayBuffer, which for a slice of a larger buffer is more than the image.
    const bytes = options.transferInput && isTransferable(input) ? input : new Uint8Array(input);
    return new Promise((resolve, reject) => {
      const job: ThumbnailJob = { id: this.#nextId++, input: bytes, size, maxPixels };
      this.#queue.push({ job, transfer: [bytes.buffer as ArrayBuffer], timeoutMs, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every worker; queued and running jobs are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) pending.reject(new Error('thumbnail pool closed'));
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) {
      clearTimeout(slot.timer);
      slot.running?.reject(new Error('thumbnail pool closed'));
      slot.running = undefined;
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const idle = [...this.#slots].find((slot) => slot.ready && !slot.running);
      if (idle) {
        this.#start(idle, this.#queue.shift()!);
        continue;
      }
      // Workers still loading jimp will take the queued jobs when they are ready.
      const starting = [...this.#slots].filter((slot) => !slot.ready).length;
      if (starting < this.#queue.length && this.#slots.size < this.#workers) this.#spawn();
      else return;
    }
  }

  #start(slot: Slot, pending: Pending): void {
    slot.running = pending;
    slot.worker.ref();
    slot.timer = setTimeout(() => {
      this.#retire(slot);
      pending.reject(
        new ThumbnailWorkerError('timeout', `thumbnail not rendered within ${pending.timeoutMs} ms; worker replaced`),
      );
      void slot.worker.terminate();
      this.#dispatch();
    }, pending.timeoutMs);
    slot.worker.postMessage(pending.job, pending.transfer);
  }

  #spawn(): void {
    const worker = new Worker(this.#script);
    const slot: Slot = { worker, ready: false };
    this.#slots.add(slot);
    worker.on('message', (message: ThumbnailReply | WorkerReady) => {
      if ('ready' in message) {
        slot.ready = true;
        worker.unref();
      } else if (slot.running?.job.id === message.id) {
        const pending = slot.running;
        clearTimeout(slot.timer);
        slot.running = undefined;
        worker.unref();
        if (message.ok) {
          const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
          pending.resolve({ bytes, mime: message.mime, width: message.width, height: message.height });
        } else if (message.refused) {
          pending.reject(new ThumbnailRefusedError(`not a readable image: ${message.message}`));
        } else {
          pending.reject(new ThumbnailWorkerError('crashed', `thumbnail worker failed: ${message.message}`));
        }
      }
      this.#dispatch();
    });
    worker.on('error', (error) => {
      slot.error = error;
    });
    worker.on('exit', (code) => {
      if (!this.#slots.has(slot)) return; // retired (timeout) or closed: already settled
      this.#retire(slot);
      const why = `thumbnail worker exited (code ${code}${slot.error ? `: ${slot.error.message}` : ''})`;
      slot.running?.reject(new ThumbnailWorkerError('crashed', `${why}; worker replaced`));
      if (!slot.ready) {
        // A worker that cannot even load would be replaced by another that cannot: fail what waits instead of
        // starting workers in a loop.
        for (const pending of this.#queue.splice(0))
          pending.reject(new ThumbnailWorkerError('crashed', `${why} before it was ready`));
        return;
      }
      this.#dispatch();
    });
  }

  #retire(slot: Slot): void {
    clearTimeout(slot.timer);
    this.#slots.delete(slot);
  }
}

function checkBeforeDecoding(input: Buffer, maxPixels: number, dimensionsOf: (head: Buffer) => Dimensions | undefined) {
  const format = decodableFormat(input);
  if (!format) throw new ThumbnailRefusedError(`not an image the thumbnailer reads (${describeFormat(input)})`);
  const dimensions = dimensionsOf(input);
  if (!dimensions || !(dimensions.width > 0) || !(dimensions.height > 0))
    throw new ThumbnailRefusedError(`${format} whose dimensions cannot be read from its header`);
  const { width, height } = dimensions;
  if (width * height > maxPixels)
    throw new ThumbnailRefusedError(
      `${format} of ${width}x${height} = ${((width * height) / 1e6).toFixed(1)} MP exceeds the ${(maxPixels / 1e6).toFixed(1)} MP limit`,
    );
}

// Only the formats jimp 1.x decodes, minus TIFF: jimp decodes every page of a TIFF, so a small first page says
// nothing about the rest. WebP (no decoder in jimp's default formats) and everything else are refused.
function decodableFormat(b: Buffer): 'JPEG' | 'PNG' | 'GIF' | 'BMP' | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'PNG';
  if (b.length >= 6 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a'))
    return 'GIF';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'BMP';
  return undefined;
}

function describeFormat(b: Buffer): string {
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP')
    return 'WebP has no decoder in jimp';
  const head = b.toString('latin1', 0, 4);
  if (head === 'II*\0' || head === 'MM\0*') return 'TIFF is not thumbnailed';
  return 'unrecognised bytes';
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The dimensions an image declares, read from its header without decoding: JPEG (largest frame header before the
 * first scan), PNG (IHDR), GIF (logical screen, or the first frame's descriptor when larger: that is what gets
 * decoded) and BMP. Undefined for anything else or a header cut short.
 *
 * Minimal and private to the thumbnailer for now; common/files/image-limits.ts's imageDimensions (upload checks)
 * can replace it through the dimensionsOf option if it covers the GIF frame and the JPEG frame headers the same way.
 */
export function headerDimensions(b: Buffer): Dimensions | undefined {
  switch (decodableFormat(b)) {
    case 'JPEG':
      return jpegDimensions(b);
    case 'PNG':
      if (b.length < 24 || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
      return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
    case 'GIF':
      return gifDimensions(b);
    case 'BMP':
      return bmpDimensions(b);
    default:
      return undefined;
  }
}

function jpegDimensions(b: Buffer): Dimensions | undefined {
  let largest: Dimensions | undefined;
  let i = 2;
  while (i + 1 < b.length) {
    if (b[i] !== 0xff) return largest;
    let marker = b[i + 1]!;
    while (marker === 0xff && i + 2 < b.length) marker = b[++i + 1]!; // fill bytes
    i += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // no length: TEM, RSTn, SOI
    if (marker === 0xda || marker === 0xd9 || i + 2 > b.length) return largest; // SOS, EOI, cut short
    const length = b.readUInt16BE(i);
    if (length < 2) return largest;
    const isFrameHeader = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrameHeader && i + 7 <= b.length) {
      const frame = { height: b.readUInt16BE(i + 3), width: b.readUInt16BE(i + 5) };
      if (!largest || frame.width * frame.height > largest.width * largest.height) largest = frame;
    }
    i += length;
  }
  return largest;
}

function gifDimensions(b: Buffer): Dimensions | undefined {
  if (b.length < 13) return undefined;
  const screen = { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  const flags = b[10]!;
  let i = 13 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0);
  while (i < b.length) {
    const block = b[i]!;
    if (block === 0x2c) {
      if (i + 9 > b.length) return screen;
      const frame = { width: b.readUInt16LE(i + 5), height: b.readUInt16LE(i + 7) };
      return frame.width * frame.height > screen.width * screen.height ? frame : screen;
    }
    if (block !== 0x21) return screen; // trailer or garbage: no frame to decode
    i += 2; // introducer and label, then sub-blocks up to an empty one
    while (i < b.length && b[i] !== 0) i += b[i]! + 1;
    i += 1;
  }
  return screen;
}

function bmpDimensions(b: Buffer): Dimensions | undefined {
  if (b.length < 26) return undefined;
  // BITMAPCOREHEADER (12 bytes) has 16-bit sizes; the later headers 32-bit, the height negative when top-down.
  if (b.readUInt32LE(14) === 12) return { width: b.readUInt16LE(18), height: b.readUInt16LE(20) };
  return { width: b.readInt32LE(18), height: Math.abs(b.readInt32LE(22)) };
}

let defaultPool: ThumbnailPool | undefined;
let defaultPoolOptions: ThumbnailPoolOptions = {};

/** Options of the pool renderThumbnail uses (the worker process calls it at start); a running pool is closed. */
export async function configureThumbnailPool(options: ThumbnailPoolOptions): Promise<void> {
  defaultPoolOptions = options;
  await closeThumbnailPool();
}

/** Renders a thumbnail that fits in size x size (256 default), honouring EXIF orientation, off the main thread. */
export function renderThumbnail(input: Buffer, options?: ThumbnailOptions): Promise<ThumbnailResult> {
  defaultPool ??= new ThumbnailPool(defaultPoolOptions);
  return defaultPool.render(input, options);
}

/** Stops renderThumbnail's workers (idle ones do not keep the process alive); the next call starts new ones. */
export async function closeThumbnailPool(): Promise<void> {
  const pool = defaultPool;
  defaultPool = undefined;
  await pool?.close();
}
