// Thumbnails of raster attachments (issue 10): 256 px, EXIF orientation honoured, rendered by jimp (a JPEG decoded by
// libjpeg in WebAssembly) in a small pool of worker threads so that a 12-megapixel JPEG (a quarter of a second of
// synchronous work, far more for a large PNG in pure JavaScript) never stalls the activity worker's event loop. The
// declared dimensions are checked on the calling thread before any decoder sees a byte: a decompression bomb costs
// a header read, not gigabytes.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Dimensions, decodableFormat, describeUndecodable, headerDimensions } from './image-header.ts';
import {
  isTransferable,
  type ThumbnailJob,
  type ThumbnailReply,
  type ThumbnailResult,
  type WorkerReady,
} from './thumbnail-protocol.ts';

export { type Dimensions, headerDimensions } from './image-header.ts';
export type { ThumbnailMime, ThumbnailResult } from './thumbnail-protocol.ts';

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
  if (!format) throw new ThumbnailRefusedError(`not an image the thumbnailer reads (${describeUndecodable(input)})`);
  const dimensions = dimensionsOf(input);
  if (!dimensions || !(dimensions.width > 0) || !(dimensions.height > 0))
    throw new ThumbnailRefusedError(`${format} whose dimensions cannot be read from its header`);
  const { width, height } = dimensions;
  if (width * height > maxPixels)
    throw new ThumbnailRefusedError(
      `${format} of ${width}x${height} = ${((width * height) / 1e6).toFixed(1)} MP exceeds the ${(maxPixels / 1e6).toFixed(1)} MP limit`,
    );
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
