// The memory an S3 upload holds is its parts: S3 needs every part but the last to be at least 5 MiB, and a part's
// length (and, signed, its SHA-256) before its first byte, while an upload's length is unknown until it ends. So a
// part is collected whole before it is sent. These buffers are shared by every upload in the process and there are
// at most `max` of them: the process holds `max × size` bytes of parts whatever the number of uploads, and an upload
// that finds none free waits (its request body waits in the socket, where backpressure leaves it). Reusing them
// also spares the allocator and the garbage collector 5 MiB blocks that each live for one request.

export class PartBuffers {
  readonly size: number;
  readonly max: number;
  #created = 0;
  readonly #free: Buffer[] = [];
  readonly #waiting: Array<{ resolve(buffer: Buffer): void; reject(error: unknown): void; signal?: AbortSignal }> = [];

  constructor(size: number, max: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`part size ${size} is not a byte count`);
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('at least one part buffer is needed');
    this.size = size;
    this.max = max;
  }

  /** Buffers created so far (at most `max`); they are kept for reuse, never freed. */
  get created(): number {
    return this.#created;
  }

  /** Buffers handed out and not yet given back. */
  get inUse(): number {
    return this.#created - this.#free.length;
  }

  /**
   * A buffer of `size` bytes (old contents: the caller writes before it reads), at once when one is free or may
   * still be created, else when one is given back, first come first served. Rejects with the signal's reason when
   * it aborts first, so an upload whose body failed stops waiting.
   */
  take(signal?: AbortSignal): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const free = this.#free.pop();
    if (free) return Promise.resolve(free);
    if (this.#created < this.max) {
      this.#created++;
      return Promise.resolve(Buffer.allocUnsafeSlow(this.size));
    }
    return new Promise<Buffer>((resolve, reject) => {
      const waiter = { resolve, reject, signal };
      this.#waiting.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#waiting.indexOf(waiter);
          if (index === -1) return;
          this.#waiting.splice(index, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Gives a buffer back once nothing reads or writes it any more (its request has settled); it must be of this pool's size. */
  give(buffer: Buffer): void {
    if (buffer.length !== this.size) throw new RangeError('not one of these part buffers');
    const next = this.#waiting.shift();
    if (next) next.resolve(buffer);
    else this.#free.push(buffer);
  }
}
