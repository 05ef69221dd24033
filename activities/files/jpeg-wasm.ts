// JPEG decoding for the thumbnail workers by libjpeg compiled to WebAssembly (mozjpeg, from @jsquash/jpeg): five to
// six times faster than jpeg-js, jimp's pure-JavaScript decoder, on a 12-megapixel photo, while keeping what
// jpeg-js gave and sharp (a native libvips) does not: C confined to the wasm sandbox (a stray write stays inside the
// instance's own memory), and no native binary to build or ship. jimp keeps everything else (resize, rotate, encode, PNG/GIF/BMP); see thumbnail-render.ts.
//
// Each thread that decodes (a pool worker; the benchmark's main thread) has its own instance, made on first use.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import mozjpegFactory from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
import { jpegFrame } from './image-header.ts';

/** The bytes are not a JPEG this decoder reads (corrupt, cut short, or a kind libjpeg refuses). */
export class JpegDecodeError extends Error {
  override name = 'JpegDecodeError';
}

/**
 * The decoder ran out of memory: libjpeg's allocation failed, or the wasm runtime aborted (its allocator does when
 * the instance's memory cannot grow). Not about the bytes: the frame was checked against the pixel limit, which keeps
 * a decode well inside the instance's 2 GB, so it is the process that is short of memory, and a retry may pass.
 */
export class JpegOutOfMemoryError extends Error {
  override name = 'JpegOutOfMemoryError';
}

export type DecodedJpeg = { data: Uint8ClampedArray; width: number; height: number };

/** What the mozjpeg module of @jsquash/jpeg exposes, as far as this file uses it. */
export type MozjpegModule = {
  decode(
    data: Uint8Array,
    preserveOrientation: boolean,
  ): { data: Uint8ClampedArray; width: number; height: number } | null;
  HEAPU8: Uint8Array;
};

/** What an instance calls back: each line libjpeg (or the runtime) prints, and libjpeg's exit() after a fatal error. */
export type LibjpegHooks = { printErr(text: string): void; quit(status: number): never };

/** Makes a libjpeg instance wired to the hooks; tests substitute one that fails. */
export type InstantiateLibjpeg = (hooks: LibjpegHooks) => Promise<MozjpegModule>;

/**
 * Above this much linear memory an instance is dropped after its decode rather than kept: wasm memory only grows,
 * and one 50 MP photo (200 MB of RGBA inside the instance, more for a progressive one) should not stay resident in
 * an idle worker. A 12 MP photo needs 53 MB (87 MB progressive). The instance's memory is declared by the module
 * itself (16 MB, growing to at most 2 GB), not handed in, so it cannot be capped lower from here: the pixel limit
 * checked before each decode is what bounds it (under 0.7 GB at 50 MP).
 */
const KEEP_INSTANCE_BELOW_BYTES = 128 * 2 ** 20;

/**
 * libjpeg goes on past damaged data with a warning and fills in what it lost (grey, or the blocks before); jpeg-js,
 * the decoder this one replaces, refused such files, and so do we, at the first warning: libjpeg prints only its
 * first, so one let through would hide the damage behind it. Stopping there also means libjpeg never allocates for
 * a frame header our own reading did not check: stray bytes among the header's segments are a warning, and libjpeg
 * reads on past them to whatever frame header follows. The one warning let through is stray bytes before the end
 * marker (EOI), common enough from some cameras and editors: the image is complete by then, so nothing is lost.
 */
const HARMLESS_WARNING = /extraneous bytes before marker 0xd9$/i;
/** libjpeg's JERR_OUT_OF_MEMORY. */
const LIBJPEG_OUT_OF_MEMORY = /^Insufficient memory/i;
/** The runtime's abort(), which prints this before throwing a WebAssembly.RuntimeError "Aborted(...)". */
const RUNTIME_ABORT = /^Aborted\(/;

let compiled: WebAssembly.Module | undefined;

function wasmModule(): WebAssembly.Module {
  // The package's own loader would fetch() the file by URL, which Node cannot for file: URLs: hand it the module.
  compiled ??= new WebAssembly.Module(
    readFileSync(createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')),
  );
  return compiled;
}

function instantiateMozjpeg(hooks: LibjpegHooks): Promise<MozjpegModule> {
  const module = wasmModule();
  // The package's types describe fewer options than Emscripten's factory takes (print, printErr, quit).
  const factory = mozjpegFactory as unknown as (options: object) => Promise<MozjpegModule>;
  return factory({
    noInitialRun: true,
    instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
      const created = new WebAssembly.Instance(module, imports);
      done(created);
      return created.exports;
    },
    // Nothing goes to stderr: libjpeg's messages and its exit() are the decoder's to judge.
    printErr: hooks.printErr,
    print: () => {},
    quit: hooks.quit,
  });
}

/**
 * One thread's JPEG decoder, over one libjpeg instance made on first use and replaced after a failure or a large
 * decode. Each thread that decodes (a pool worker; the benchmark's main thread) has its own: decodeJpeg's.
 */
export class WasmJpegDecoder {
  readonly #instantiate: InstantiateLibjpeg;
  #instance: Promise<MozjpegModule> | undefined;
  /** What libjpeg printed during the current decode: a warning, or its fatal error before it calls exit. */
  #messages: string[] = [];
  /** Whether a decode is running: only then does a message stop it (the runtime may print while instantiating). */
  #decoding = false;
  readonly #hooks: LibjpegHooks = {
    printErr: (text) => this.#message(text),
    // libjpeg reports a fatal error by printing it (see #message, which throws first) and calling exit(): should it
    // exit without a word, that too becomes an error of ours (Emscripten's default throws an ExitStatus, not an Error).
    quit: (status) => {
      throw new JpegDecodeError(this.#messages.at(-1) || `libjpeg exited with status ${status}`);
    },
  };

  constructor(instantiate: InstantiateLibjpeg = instantiateMozjpeg) {
    this.#instantiate = instantiate;
  }

  /**
   * Decodes a JPEG to RGBA (greyscale expanded). Refuses, before the decoder sees a byte, a frame over maxPixels or
   * a header it cannot read (see jpegFrame), and stops libjpeg at its first warning or error (JpegDecodeError; see
   * HARMLESS_WARNING for the one exception) or when it runs out of memory (JpegOutOfMemoryError). After any of
   * these the instance is replaced: a throw in the middle of a decode leaves its memory as libjpeg had it.
   */
  async decode(input: Buffer, maxPixels: number): Promise<DecodedJpeg> {
    const frame = jpegFrame(input);
    if (!frame || !(frame.width > 0) || !(frame.height > 0)) throw new JpegDecodeError('JPEG frame header not found');
    if (frame.width * frame.height > maxPixels)
      throw new JpegDecodeError(
        `JPEG of ${frame.width}x${frame.height} exceeds the ${(maxPixels / 1e6).toFixed(1)} MP limit`,
      );
    const mozjpeg = await this.#ready();
    this.#messages = [];
    this.#decoding = true;
    let decoded: ReturnType<MozjpegModule['decode']>;
    try {
      // false: the pixels as stored. true would have libjpeg turn the full-size bitmap upright from the EXIF
      // orientation; thumbnail-render.ts turns the 256 px thumbnail instead.
      decoded = mozjpeg.decode(input, false);
    } catch (error) {
      this.#instance = undefined;
      throw decodeFailure(error);
    } finally {
      this.#decoding = false;
      if (mozjpeg.HEAPU8.length > KEEP_INSTANCE_BELOW_BYTES) this.#instance = undefined;
    }
    if (!decoded) throw new JpegDecodeError(this.#messages.at(-1) || 'libjpeg could not decode the JPEG');
    const { data, width, height } = decoded;
    if (width * height > maxPixels || data.length !== width * height * 4)
      throw new JpegDecodeError(`libjpeg returned ${width}x${height} from a ${frame.width}x${frame.height} frame`);
    // Embind copies the pixels out of the wasm memory into an ArrayBuffer of their own: jimp's fromBitmap wraps that
    // whole ArrayBuffer, so anything else would give it the wrong bytes.
    const owned = data.byteOffset === 0 && data.buffer.byteLength === data.length ? data : new Uint8ClampedArray(data);
    return { data: owned, width, height };
  }

  /** The instance, made on first use. One that failed to instantiate (short of memory, say) is not kept. */
  #ready(): Promise<MozjpegModule> {
    if (this.#instance) return this.#instance;
    const made = this.#instantiate(this.#hooks);
    this.#instance = made;
    made.catch(() => {
      if (this.#instance === made) this.#instance = undefined;
    });
    return made;
  }

  #message(text: string): void {
    this.#messages.push(text);
    if (!this.#decoding || RUNTIME_ABORT.test(text) || HARMLESS_WARNING.test(text)) return;
    // Thrown out through libjpeg's frames to decode's caller, before it reads or allocates anything more.
    if (LIBJPEG_OUT_OF_MEMORY.test(text)) throw new JpegOutOfMemoryError(`libjpeg: ${text}`);
    throw new JpegDecodeError(text);
  }
}

/** What a decode that threw is, to the caller: about the bytes (refused) or about memory (may pass). */
function decodeFailure(error: unknown): Error {
  if (error instanceof JpegDecodeError || error instanceof JpegOutOfMemoryError) return error;
  // Out of JavaScript memory (copying the pixels out) may pass too; the pool tells it apart.
  if (error instanceof RangeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof WebAssembly.RuntimeError && RUNTIME_ABORT.test(message))
    return new JpegOutOfMemoryError(`libjpeg's runtime aborted (out of memory): ${message}`);
  // A trap (out-of-bounds access, unreachable): libjpeg went wrong on these bytes, and would again.
  return new JpegDecodeError(`libjpeg failed: ${message}`);
}

const threadDecoder = new WasmJpegDecoder();

/** Decodes a JPEG with this thread's decoder: see WasmJpegDecoder.decode. */
export function decodeJpeg(input: Buffer, maxPixels: number): Promise<DecodedJpeg> {
  return threadDecoder.decode(input, maxPixels);
}
