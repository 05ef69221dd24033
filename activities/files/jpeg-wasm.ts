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

export type DecodedJpeg = { data: Uint8ClampedArray; width: number; height: number };

/** What the mozjpeg module of @jsquash/jpeg exposes, as far as this file uses it. */
type MozjpegModule = {
  decode(
    data: Uint8Array,
    preserveOrientation: boolean,
  ): { data: Uint8ClampedArray; width: number; height: number } | null;
  HEAPU8: Uint8Array;
};

/**
 * Above this much linear memory an instance is dropped after its decode rather than kept: wasm memory only grows,
 * and one 50 MP photo (200 MB of RGBA inside the instance, more for a progressive one) should not stay resident in
 * an idle worker. A 12 MP photo needs 53 MB (87 MB progressive). The instance's memory is declared by the module
 * itself (16 MB, growing to at most 2 GB), not handed in, so it cannot be capped lower from here: the pixel limit
 * checked before each decode is what bounds it (under 0.7 GB at 50 MP).
 */
const KEEP_INSTANCE_BELOW_BYTES = 128 * 2 ** 20;

let compiled: WebAssembly.Module | undefined;
let instance: Promise<MozjpegModule> | undefined;
/** What libjpeg printed during the current decode: a warning, or its fatal error before it calls exit. */
let messages: string[] = [];

/**
 * libjpeg goes on past damaged data with a warning and fills in what it lost (grey, or the blocks before); jpeg-js,
 * the decoder this one replaces, refused such files, and so do we. The one warning that loses nothing is stray
 * bytes between segments, common enough from some cameras and editors. (libjpeg prints only its first warning.)
 */
const HARMLESS_WARNING = /extraneous bytes before marker/i;

function wasmModule(): WebAssembly.Module {
  // The package's own loader would fetch() the file by URL, which Node cannot for file: URLs: hand it the module.
  compiled ??= new WebAssembly.Module(
    readFileSync(createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')),
  );
  return compiled;
}

function newInstance(): Promise<MozjpegModule> {
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
    // libjpeg reports a fatal error by printing it and calling exit(): keep the text, and make the exit throw it as
    // an error of ours (Emscripten's default throws an ExitStatus, which is not an Error). Nothing goes to stderr.
    printErr: (text: string) => {
      messages.push(text);
    },
    print: () => {},
    quit: (status: number) => {
      throw new JpegDecodeError(messages.at(-1) || `libjpeg exited with status ${status}`);
    },
  });
}

/**
 * Decodes a JPEG to RGBA (greyscale expanded). Refuses, before the decoder sees a byte, a frame over maxPixels or
 * a header it cannot read; a libjpeg error becomes a JpegDecodeError and the instance is replaced, since an exit
 * in the middle of a decode leaves its memory in whatever state libjpeg had it.
 */
export async function decodeJpeg(input: Buffer, maxPixels: number): Promise<DecodedJpeg> {
  const frame = jpegFrame(input);
  if (!frame || !(frame.width > 0) || !(frame.height > 0)) throw new JpegDecodeError('JPEG frame header not found');
  if (frame.width * frame.height > maxPixels)
    throw new JpegDecodeError(
      `JPEG of ${frame.width}x${frame.height} exceeds the ${(maxPixels / 1e6).toFixed(1)} MP limit`,
    );
  instance ??= newInstance();
  const mozjpeg = await instance;
  messages = [];
  let decoded: ReturnType<MozjpegModule['decode']>;
  try {
    // false: the pixels as stored. true would have libjpeg turn the full-size bitmap upright from the EXIF
    // orientation; thumbnail-render.ts turns the 256 px thumbnail instead.
    decoded = mozjpeg.decode(input, false);
  } catch (error) {
    instance = undefined;
    // Out of JavaScript memory (copying the pixels out) may pass; the pool tells the two apart.
    if (error instanceof JpegDecodeError || error instanceof RangeError) throw error;
    throw new JpegDecodeError(`libjpeg failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (mozjpeg.HEAPU8.length > KEEP_INSTANCE_BELOW_BYTES) instance = undefined;
  }
  if (!decoded) throw new JpegDecodeError(messages.at(-1) || 'libjpeg could not decode the JPEG');
  const damage = messages.find((message) => !HARMLESS_WARNING.test(message));
  if (damage) throw new JpegDecodeError(damage);
  const { data, width, height } = decoded;
  if (width * height > maxPixels || data.length !== width * height * 4)
    throw new JpegDecodeError(`libjpeg returned ${width}x${height} from a ${frame.width}x${frame.height} frame`);
  // Embind copies the pixels out of the wasm memory into an ArrayBuffer of their own: jimp's fromBitmap wraps that
  // whole ArrayBuffer, so anything else would give it the wrong bytes.
  const owned = data.byteOffset === 0 && data.buffer.byteLength === data.length ? data : new Uint8ClampedArray(data);
  return { data: owned, width, height };
}
