import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import {
  JpegDecodeError,
  JpegOutOfMemoryError,
  type LibjpegHooks,
  type MozjpegModule,
  WasmJpegDecoder,
} from './jpeg-wasm.ts';
import {
  halvesJpeg,
  hiddenFrameJpeg,
  markerOffsets,
  photoLikeJpeg,
  quartersJpeg,
  solidImage,
  withExifOrientation,
} from './test-support.ts';
import {
  closeThumbnailPool,
  renderThumbnail,
  ThumbnailPool,
  ThumbnailRefusedError,
  type ThumbnailResult,
  ThumbnailWorkerError,
} from './thumbnail.ts';
import { mayPassOnRetry, renderInProcess } from './thumbnail-render.ts';

/** What the thumbnail's own bytes say it is. */
async function decoded(result: ThumbnailResult) {
  const meta = await sharp(result.bytes).metadata();
  return { format: meta.format, width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha };
}

/** The mean absolute difference, in levels a channel, between our thumbnail and sharp's of the same input. */
async function differenceFromSharp(input: Buffer, ours: ThumbnailResult): Promise<number> {
  const mine = await sharp(ours.bytes).raw().toBuffer();
  const theirs = await sharp(input).rotate().resize(ours.width, ours.height).removeAlpha().raw().toBuffer();
  assert.equal(mine.length, theirs.length, 'both RGB, same size');
  let total = 0;
  for (let i = 0; i < mine.length; i++) total += Math.abs(mine[i]! - theirs[i]!);
  return total / mine.length;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ThumbnailRefusedError, `a ThumbnailRefusedError, got ${error}`);
  return error.message;
}

describe('thumbnails (jimp in worker threads, JPEG decoded by libjpeg in wasm)', function () {
  // A 12-megapixel photo is made by sharp in about a second, and a busy two-core machine slows everything.
  this.timeout(120_000);
  let photo12mp: Buffer;
  before(async () => {
    photo12mp = await photoLikeJpeg(4000, 3000);
  });
  after(() => closeThumbnailPool());

  it('fits the image in 256 x 256 keeping its aspect, in the format its bytes say, and never enlarges it', async () => {
    const landscape = await renderThumbnail(await halvesJpeg(400, 200));
    assert.deepEqual([landscape.mime, landscape.width, landscape.height], ['image/jpeg', 256, 128]);
    assert.deepEqual(await decoded(landscape), { format: 'jpeg', width: 256, height: 128, hasAlpha: false });

    const portrait = await renderThumbnail(await solidImage('png', 300, 900));
    assert.deepEqual([portrait.width, portrait.height], [85, 256]);

    const small = await renderThumbnail(await solidImage('jpeg', 40, 30));
    assert.deepEqual([small.width, small.height], [40, 30]);

    const sized = await renderThumbnail(await halvesJpeg(400, 200), { size: 64 });
    assert.deepEqual(await decoded(sized), { format: 'jpeg', width: 64, height: 32, hasAlpha: false });
  });

  it('turns the picture upright from its EXIF orientation (6: stored landscape, shown portrait)', async () => {
    const input = await halvesJpeg(400, 200, 6);
    assert.equal((await sharp(input).metadata()).orientation, 6);
    const result = await renderThumbnail(input);
    assert.deepEqual([result.width, result.height], [128, 256]);
    // Orientation 6 is a quarter turn clockwise: the stored left half (red) ends on top, the right (blue) below.
    const { data } = await sharp(result.bytes).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * 128 + x) * 3, (y * 128 + x) * 3 + 3)];
    const [topR, , topB] = pixel(64, 10);
    const [bottomR, , bottomB] = pixel(64, 245);
    assert.ok(topR! > 200 && topB! < 50, `top is red: ${pixel(64, 10)}`);
    assert.ok(bottomB! > 200 && bottomR! < 50, `bottom is blue: ${pixel(64, 245)}`);

    // sharp writes a little-endian Exif segment; a big-endian one written by hand reads the same.
    const bigEndian = await renderThumbnail(withExifOrientation(await halvesJpeg(400, 200), 6));
    assert.deepEqual([bigEndian.width, bigEndian.height], [128, 256]);
  });

  it('shows every EXIF orientation (1-8) as sharp (libvips) does', async () => {
    for (let orientation = 1; orientation <= 8; orientation++) {
      const input = await quartersJpeg(1200, 600, orientation);
      const ours = await sharp((await renderThumbnail(input)).bytes)
        .raw()
        .toBuffer({ resolveWithObject: true });
      const theirs = await sharp(input)
        .rotate()
        .resize(256, 256, { fit: 'inside' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const size = (i: typeof ours.info) => `${i.width}x${i.height}`;
      assert.equal(size(ours.info), size(theirs.info), `orientation ${orientation}`);
      const { width, height } = ours.info;
      for (const [fx, fy] of [
        [0.25, 0.25],
        [0.75, 0.25],
        [0.25, 0.75],
        [0.75, 0.75],
      ] as const) {
        const at = (Math.floor(fy * height) * width + Math.floor(fx * width)) * 3;
        const [a, b] = [ours.data.subarray(at, at + 3), theirs.data.subarray(at, at + 3)];
        assert.ok(
          a.every((v, c) => Math.abs(v - b[c]!) < 40),
          `orientation ${orientation} at (${fx}, ${fy}): ours ${[...a]}, sharp's ${[...b]}`,
        );
      }
    }
  });

  it("looks like sharp's thumbnail of the same photo (mean difference under 3 levels a channel)", async () => {
    const photo = await photoLikeJpeg(2000, 1500, 7);
    const ours = await renderThumbnail(photo);
    assert.deepEqual([ours.width, ours.height], [256, 192]);
    const mean = await differenceFromSharp(photo, ours);
    assert.ok(mean < 3, `mean absolute difference ${mean.toFixed(2)}`);
  });

  it('thumbnails a 12-megapixel phone photo held upright (EXIF orientation 6) as sharp does', async () => {
    const upright = withExifOrientation(photo12mp, 6);
    const ours = await renderThumbnail(upright);
    assert.deepEqual([ours.mime, ours.width, ours.height], ['image/jpeg', 192, 256]);
    assert.deepEqual(await decoded(ours), { format: 'jpeg', width: 192, height: 256, hasAlpha: false });
    const mean = await differenceFromSharp(upright, ours);
    assert.ok(mean < 3, `mean absolute difference ${mean.toFixed(2)}`);
  });

  it('reads progressive, greyscale and CMYK JPEGs', async () => {
    const photo = await photoLikeJpeg(1600, 1200, 3);
    const progressive = await sharp(photo).jpeg({ quality: 90, progressive: true }).toBuffer();
    const fromProgressive = await renderThumbnail(progressive);
    assert.deepEqual([fromProgressive.width, fromProgressive.height], [256, 192]);
    assert.ok((await differenceFromSharp(progressive, fromProgressive)) < 3, 'progressive looks right');

    const grey = await sharp(photo).toColourspace('b-w').jpeg().toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1, 'a one-component JPEG');
    const fromGrey = await renderThumbnail(grey);
    assert.deepEqual([fromGrey.mime, fromGrey.width, fromGrey.height], ['image/jpeg', 256, 192]);
    assert.ok((await differenceFromSharp(grey, fromGrey)) < 3, 'greyscale looks right');

    // libjpeg will not turn CMYK into RGB: such a JPEG goes to jpeg-js, as before. Its plain arithmetic conversion (no
    // colour profile, unlike libvips) lands some 27 levels from sharp's; inverted or garbled ink would be ~100 off.
    const cmyk = await sharp(photo).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const fromCmyk = await renderThumbnail(cmyk);
    assert.deepEqual([fromCmyk.width, fromCmyk.height], [256, 192]);
    const cmykMean = await differenceFromSharp(cmyk, fromCmyk);
    assert.ok(cmykMean < 40, `CMYK: mean absolute difference ${cmykMean.toFixed(2)}`);
  });

  it('keeps transparency as PNG and makes every opaque image a JPEG (quality 80)', async () => {
    const translucentPng = await renderThumbnail(await solidImage('png', 600, 300, 0.5));
    assert.equal(translucentPng.mime, 'image/png');
    assert.deepEqual(await decoded(translucentPng), { format: 'png', width: 256, height: 128, hasAlpha: true });

    const transparentGif = await renderThumbnail(await solidImage('gif', 300, 300, 0));
    assert.equal(transparentGif.mime, 'image/png');
    assert.equal((await decoded(transparentGif)).format, 'png');

    const opaquePng = await renderThumbnail(await solidImage('png', 600, 300));
    assert.equal(opaquePng.mime, 'image/jpeg');
    assert.equal((await decoded(opaquePng)).format, 'jpeg');
  });

  it('refuses what jimp cannot read, permanently', async () => {
    assert.match(await refusal(renderThumbnail(Buffer.from('%PDF-1.7 not a raster image'))), /unrecognised/);
    assert.match(await refusal(renderThumbnail(await solidImage('webp', 50, 50))), /WebP/);
    assert.match(await refusal(renderThumbnail(await solidImage('tiff', 50, 50))), /TIFF/);
  });

  it('refuses a corrupt or truncated JPEG as a decode error, and the worker goes on', async () => {
    // A real JPEG header, then no picture: only the decoder (in the worker) finds out.
    const jpeg = await halvesJpeg(400, 200);
    const broken = Buffer.concat([jpeg.subarray(0, 700), Buffer.alloc(4000, 0x5a)]);
    assert.match(await refusal(renderThumbnail(broken)), /not a readable image: Corrupt JPEG data/);
    assert.match(await refusal(renderThumbnail(jpeg.subarray(0, 300))), /not a readable image/);
    // libjpeg would fill the missing half with grey and warn; a truncated upload is refused, as jpeg-js did.
    const halfPhoto = photo12mp.subarray(0, photo12mp.length / 2);
    assert.match(await refusal(renderThumbnail(halfPhoto)), /Premature end of JPEG file/);
    // Stray bytes before the end marker lose nothing: libjpeg warns, the thumbnail is made.
    const small = await photoLikeJpeg(400, 300);
    const stray = Buffer.concat([small.subarray(0, -2), Buffer.from([0, 0, 0xff, 0xd9])]);
    assert.equal((await renderThumbnail(stray)).width, 256);
    assert.equal((await renderThumbnail(jpeg)).width, 256, 'the decoder works after the failures');
  });

  it('refuses stray bytes anywhere but before the end marker, so that damage behind them cannot pass', async () => {
    // libjpeg skips stray bytes with a warning and prints only its first warning: let through, they would hide the
    // cut that follows, and libjpeg would fill in grey.
    const jpeg = await halvesJpeg(400, 200);
    const dht = markerOffsets(jpeg).find((m) => m.marker === 0xc4)!.at;
    const amidHeader = Buffer.concat([jpeg.subarray(0, dht), Buffer.from([0x12, 0x34]), jpeg.subarray(dht, -300)]);
    assert.match(await refusal(renderThumbnail(amidHeader)), /JPEG whose dimensions cannot be read from its header/);
    // Between the scans of a progressive JPEG the header reading is over: libjpeg's warning is what stops it.
    const progressive = await sharp(await photoLikeJpeg(800, 600, 3))
      .jpeg({ quality: 90, progressive: true })
      .toBuffer();
    const markers = markerOffsets(progressive);
    const firstScan = markers.find((m) => m.marker === 0xda)!.at;
    const afterIt = markers.find((m) => m.at > firstScan)!.at;
    const cut = Math.floor(progressive.length * 0.6);
    assert.ok(cut > afterIt, 'the cut comes after the stray bytes');
    const betweenScans = Buffer.concat([
      progressive.subarray(0, afterIt),
      Buffer.alloc(64, 0x12), // enough that the scan's decoder does not take them all as its data
      progressive.subarray(afterIt, cut),
    ]);
    assert.match(
      await refusal(renderThumbnail(betweenScans)),
      /not a readable image: Corrupt JPEG data: \d+ extraneous bytes before marker 0x(c4|da)/,
    );
    assert.equal((await renderThumbnail(progressive)).width, 256, 'the same file without them is read');
  });

  describe('decompression bombs', () => {
    it('refuses a real 64-megapixel PNG from its header, without decoding it', async () => {
      const bomb = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#000' } })
        .png()
        .toBuffer();
      await renderThumbnail(await solidImage('png', 10, 10)); // the worker is up: only the refusal is timed
      const started = performance.now();
      const message = await refusal(renderThumbnail(bomb));
      const elapsed = performance.now() - started;
      assert.match(message, /8000x8000 = 64\.0 MP exceeds the 50\.0 MP limit/);
      // Decoding 64 MP in jimp takes seconds and 256 MB; reading the header takes microseconds.
      assert.ok(elapsed < 50, `refused in ${elapsed.toFixed(1)} ms`);
    });

    it('reads the declared size of JPEG, PNG, GIF and BMP headers (crafted, nothing behind them)', async () => {
      const u16be = (n: number) => [n >> 8, n & 255];
      const u16le = (n: number) => [n & 255, n >> 8];
      const u32le = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
      const jpeg = Buffer.from([
        ...[0xff, 0xd8, 0xff, 0xe0, 0, 16, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0],
        // A progressive frame header: height 30000, then width 20000.
        ...[0xff, 0xc2, 0, 17, 8, ...u16be(30000), ...u16be(20000), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
        ...[0xff, 0xda, 0, 8],
      ]);
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
        Buffer.from('IHDR'),
        Buffer.from([0, 1, 0x86, 0xa0, 0, 0, 0x27, 0x10, 8, 6, 0, 0, 0, 0, 0, 0, 0]),
      ]);
      // A 10 x 10 screen whose first frame claims 60000 x 60000: the frame is what the decoder allocates.
      const gif = Buffer.from([
        ...Buffer.from('GIF89a'),
        ...[...u16le(10), ...u16le(10), 0, 0, 0],
        ...[0x21, 0xf9, 4, 0, 0, 0, 0, 0],
        ...[0x2c, 0, 0, 0, 0, ...u16le(60000), ...u16le(60000), 0],
      ]);
      const bmp = Buffer.from([
        ...[0x42, 0x4d, ...u32le(0), 0, 0, 0, 0, ...u32le(54)],
        ...[...u32le(40), ...u32le(30000), ...u32le(-30000 >>> 0), 1, 0, 24, 0],
      ]);
      assert.match(await refusal(renderThumbnail(jpeg)), /JPEG of 20000x30000 = 600\.0 MP/);
      assert.match(await refusal(renderThumbnail(png)), /PNG of 100000x10000 = 1000\.0 MP/);
      assert.match(await refusal(renderThumbnail(gif)), /GIF of 60000x60000/);
      assert.match(await refusal(renderThumbnail(bmp)), /BMP of 30000x30000/);
    });

    it('refuses a JPEG frame over the limit in the worker too, before libjpeg sees it', async () => {
      // A header that lies to the pool's check (dimensionsOf) still meets the decoder's own reading of the frame.
      // Nothing follows the header: had libjpeg been handed it, it would fail on the missing scan, not on the size.
      const u16be = (n: number) => [n >> 8, n & 255];
      const jpeg = Buffer.from([
        ...[0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, ...u16be(9000), ...u16be(8000), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
        ...[0xff, 0xda, 0, 8],
      ]);
      const lie = () => ({ width: 100, height: 100 });
      const message = await refusal(renderThumbnail(jpeg, { dimensionsOf: lie }));
      assert.match(message, /not a readable image: JPEG of 8000x9000 exceeds the 50\.0 MP limit/);
      await assert.rejects(renderInProcess(jpeg, 256, 50_000_000), /JPEG of 8000x9000 exceeds the 50\.0 MP limit/);
    });

    it('refuses a JPEG whose real frame header hides behind bytes libjpeg skips, before any decoder sees it', async () => {
      // 321 bytes that libjpeg decoded as 20000 x 20000 (3.1 GB) while our header reading saw 16 x 16.
      const { bomb, plain } = await hiddenFrameJpeg(20_000, 20_000);
      assert.ok(bomb.length < 400, `${bomb.length} bytes`);
      assert.match(await refusal(renderThumbnail(plain)), /JPEG of 20000x20000 = 400\.0 MP exceeds the 50\.0 MP limit/);
      await renderThumbnail(await solidImage('png', 10, 10)); // the worker is up: only the refusal is timed
      let started = performance.now();
      assert.match(await refusal(renderThumbnail(bomb)), /JPEG whose dimensions cannot be read from its header/);
      assert.ok(performance.now() - started < 50, 'refused from the header');
      // The worker's own reading of the frame refuses it too: libjpeg is never called.
      const rss = process.memoryUsage().rss;
      started = performance.now();
      await assert.rejects(renderInProcess(bomb, 256, 50_000_000), /JPEG frame header not found/);
      assert.ok(performance.now() - started < 50, 'refused before decoding');
      assert.ok(process.memoryUsage().rss - rss < 64 * 2 ** 20, 'nothing of the 1.6 GB of pixels allocated');
    });

    it('takes the limit and the header reader from the caller', async () => {
      const image = await halvesJpeg(400, 200);
      assert.match(await refusal(renderThumbnail(image, { maxPixels: 79_999 })), /400x200 = 0\.1 MP exceeds/);
      const huge = () => ({ width: 100_000, height: 100_000 });
      assert.match(await refusal(renderThumbnail(image, { dimensionsOf: huge })), /100000x100000/);
      assert.match(await refusal(renderThumbnail(image, { dimensionsOf: () => undefined })), /cannot be read/);
    });
  });

  describe('the JPEG decoder (libjpeg in wasm)', () => {
    /** A libjpeg instance whose decode does what the test says, given the hooks the decoder wired into it. */
    const instance = (decode: (hooks: LibjpegHooks) => ReturnType<MozjpegModule['decode']>) => {
      return async (hooks: LibjpegHooks): Promise<MozjpegModule> => ({
        decode: () => decode(hooks),
        HEAPU8: new Uint8Array(16),
      });
    };
    let jpeg: Buffer;
    before(async () => {
      jpeg = await halvesJpeg(40, 20);
    });

    it('calls running out of memory worth another attempt, and any other failure a refusal of the bytes', async () => {
      const failure = async (decode: (hooks: LibjpegHooks) => ReturnType<MozjpegModule['decode']>) => {
        const error = await new WasmJpegDecoder(instance(decode)).decode(jpeg, 1_000_000).then(
          () => assert.fail('expected the decode to fail'),
          (e: unknown) => e as Error,
        );
        return { name: error.name, retry: mayPassOnRetry(error) };
      };
      const outOfMemory = { name: 'JpegOutOfMemoryError', retry: true };
      // libjpeg's own: it prints the error, then calls exit().
      const libjpeg = (hooks: LibjpegHooks) => {
        hooks.printErr('Insufficient memory (case 4)');
        return hooks.quit(1);
      };
      assert.deepEqual(await failure(libjpeg), outOfMemory);
      // The runtime's abort, which its allocator calls when the memory cannot grow: printed, then thrown.
      const abort = (hooks: LibjpegHooks) => {
        hooks.printErr('Aborted()');
        throw new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');
      };
      assert.deepEqual(await failure(abort), outOfMemory);
      // JavaScript's, copying the pixels out of the instance.
      const copy = () => {
        throw new RangeError('Array buffer allocation failed');
      };
      assert.deepEqual(await failure(copy), { name: 'RangeError', retry: true });
      // About the bytes: libjpeg's errors and warnings, and a trap.
      const notJpeg = (hooks: LibjpegHooks) => {
        hooks.printErr('Not a JPEG file: starts with 0x00 0x00');
        return hooks.quit(1);
      };
      assert.deepEqual(await failure(notJpeg), { name: 'JpegDecodeError', retry: false });
      // libjpeg goes on after a warning (here: returns pixels), unless the decoder stops it there.
      const warning = (hooks: LibjpegHooks) => {
        hooks.printErr('Corrupt JPEG data: 2 extraneous bytes before marker 0xc4');
        return { data: new Uint8ClampedArray(40 * 20 * 4), width: 40, height: 20 };
      };
      assert.deepEqual(await failure(warning), { name: 'JpegDecodeError', retry: false });
      const trap = () => {
        throw new WebAssembly.RuntimeError('memory access out of bounds');
      };
      assert.deepEqual(await failure(trap), { name: 'JpegDecodeError', retry: false });
      assert.equal(mayPassOnRetry(new JpegOutOfMemoryError('x')), true);
      assert.equal(mayPassOnRetry(new JpegDecodeError('Premature end of JPEG file')), false);
    });

    it('lets stray bytes before the end marker through, the image being complete by then', async () => {
      const pixels = { data: new Uint8ClampedArray(40 * 20 * 4), width: 40, height: 20 };
      const decoder = new WasmJpegDecoder(
        instance((hooks) => {
          hooks.printErr('Corrupt JPEG data: 2 extraneous bytes before marker 0xd9');
          return pixels;
        }),
      );
      assert.equal((await decoder.decode(jpeg, 1_000_000)).width, 40);
    });

    it('makes a new instance after one failed to instantiate, rather than keeping the failure', async () => {
      let attempts = 0;
      const decoder = new WasmJpegDecoder(async (hooks) => {
        attempts++;
        if (attempts === 1) throw new RangeError('WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory');
        return instance(() => ({ data: new Uint8ClampedArray(40 * 20 * 4), width: 40, height: 20 }))(hooks);
      });
      const error = await decoder.decode(jpeg, 1_000_000).then(
        () => assert.fail('expected the first decode to fail'),
        (e: unknown) => e,
      );
      assert.ok(mayPassOnRetry(error), 'worth another attempt');
      assert.deepEqual(await decoder.decode(jpeg, 1_000_000).then((d) => [d.width, d.height]), [40, 20]);
      assert.equal(attempts, 2);
    });
  });

  describe('the pool', () => {
    const testWorker = new URL('./thumbnail-test-worker.ts', import.meta.url);
    let pool: ThumbnailPool | undefined;
    afterEach(async () => {
      await pool?.close();
      pool = undefined;
    });

    async function worker(promise: Promise<unknown>): Promise<ThumbnailWorkerError> {
      const error = await promise.then(
        () => assert.fail('expected a worker error'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ThumbnailWorkerError, `a ThumbnailWorkerError, got ${error}`);
      return error;
    }

    it('rejects only the job whose worker died, and replaces the worker', async () => {
      pool = new ThumbnailPool({ workers: 2, workerScript: testWorker });
      const image = await halvesJpeg(400, 200);
      // Size 13 makes the test worker exit mid-job, size 14 throw an uncaught error.
      const [healthy, crashed] = await Promise.allSettled([pool.render(image), pool.render(image, { size: 13 })]);
      assert.equal(healthy.status, 'fulfilled', 'the job on the other worker finished');
      assert.ok(crashed.status === 'rejected' && crashed.reason instanceof ThumbnailWorkerError);
      assert.equal(crashed.reason.reason, 'crashed');
      const thrown = await worker(pool.render(image, { size: 14 }));
      assert.match(thrown.message, /decoder blew up/);
      assert.equal((await pool.render(image)).width, 256, 'replacement workers render');
    });

    it('gives the jobs queued behind a dead worker to its replacement', async () => {
      pool = new ThumbnailPool({ workers: 1, workerScript: testWorker });
      const image = await halvesJpeg(400, 200);
      const results = await Promise.allSettled([pool.render(image, { size: 13 }), pool.render(image, { size: 64 })]);
      assert.equal(results[0].status, 'rejected');
      assert.equal(results[1].status === 'fulfilled' && results[1].value.width, 64);
    });

    it('stops a job at its timeout and renders the next on a new worker', async () => {
      pool = new ThumbnailPool({ workers: 1 });
      const small = await halvesJpeg(400, 200);
      await pool.render(small); // loaded: the timeout measures the render alone
      const started = performance.now();
      const error = await worker(pool.render(photo12mp, { timeoutMs: 20 }));
      const elapsed = performance.now() - started;
      assert.equal(error.reason, 'timeout');
      assert.ok(elapsed < 1000, `rejected after ${elapsed.toFixed(0)} ms`);
      assert.equal((await pool.render(small, { size: 32 })).width, 32);
    });

    it('hands over the input without a copy when asked and the Buffer owns its memory', async () => {
      pool = new ThumbnailPool({ workers: 1 });
      const image = await halvesJpeg(400, 200);
      const owned = Buffer.alloc(image.length);
      image.copy(owned);
      assert.equal((await pool.render(owned, { transferInput: true })).width, 256);
      assert.equal(owned.byteLength, 0, 'moved to the worker');

      const kept = Buffer.alloc(image.length);
      image.copy(kept);
      await pool.render(kept);
      assert.ok(kept.equals(image), 'copied by default');

      const slice = Buffer.concat([image, Buffer.alloc(100)]).subarray(0, image.length);
      await pool.render(slice, { transferInput: true });
      assert.ok(slice.equals(image), 'a view into a larger buffer is copied, not moved');
    });
  });

  it("keeps the caller's event loop responsive while a 12-megapixel JPEG renders", async () => {
    await renderThumbnail(await solidImage('png', 10, 10)); // the worker is up: jimp's load is not measured
    // The wasm decoder alone holds its thread for over 100 ms of a 12 MP photo; the whole render for more.
    const BOUND_MS = 100;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    // The histogram measures from its timer's first tick and records a stall when the timer fires after it: let it
    // tick before the work and once after.
    const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

    delay.enable();
    await settle();
    const started = performance.now();
    const result = await renderThumbnail(photo12mp);
    const rendered = performance.now() - started;
    await settle();
    delay.disable();
    assert.deepEqual([result.width, result.height], [256, 192]);
    const inPoolMs = delay.max / 1e6;

    // The same render on this thread, to show the bound would catch it.
    delay.reset();
    delay.enable();
    await settle();
    await renderInProcess(photo12mp, 256, 50_000_000);
    await settle();
    delay.disable();
    const inProcessMs = delay.max / 1e6;

    assert.ok(rendered > BOUND_MS, `the render itself takes longer than the bound (${rendered.toFixed(0)} ms)`);
    assert.ok(inPoolMs < BOUND_MS, `longest event-loop stall with the pool: ${inPoolMs.toFixed(0)} ms`);
    assert.ok(inProcessMs > BOUND_MS, `longest stall rendering in-process: ${inProcessMs.toFixed(0)} ms`);
  });
});
