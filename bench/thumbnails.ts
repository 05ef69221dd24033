// Thumbnail benchmark (issue 10): a 12-megapixel JPEG made into a 256 px thumbnail, in the same run and on the same
// bytes, by
//   - jimp through renderThumbnail, the pipeline's call: the header check on this thread, then a worker thread of
//     the pool decodes (libjpeg in wasm, activities/files/jpeg-wasm.ts), shrinks, turns upright and encodes, and
//     transfers the bytes back;
//   - the same on the photo's bytes with an EXIF orientation 6 segment added (a phone held upright);
//   - the same render in this thread (renderInProcess): what the pool adds; timed by phase, the decode alone;
//   - the same render with jimp's own JPEG decoder, jpeg-js (pure JavaScript), in this thread: the decoder the wasm
//     one replaced;
//   - plain jimp in this thread (fromBuffer → scaleToFit → getBuffer, jpeg-js), timed by phase: jimp as its
//     documentation reads, the reference for renderInProcess's departures from it (thumbnail-render.ts);
//   - sharp (prebuilt libvips), the peer: rotate from EXIF, resize to fit 256, JPEG quality 80. libvips decodes a
//     JPEG at 1/8 scale when the target is that small (libjpeg's shrink-on-load), and uses its own threads.
// Each variant's CPU time is the process's (process.cpuUsage) over the call: the pool's worker thread and libvips's
// threads included, so it stays comparable when the shared machine's load stretches the wall-clock times.
// The photo is synthetic and the same on every run: gradients and waves under per-pixel grain, 4000 x 3000,
// JPEG quality 90 4:2:0 (activities/files/test-support.ts), about the weight of a phone photo. Rounds interleave
// the variants so that drift on the machine hits all of them; one untimed round first warms each (the worker's
// start, module loading, the wasm instance). Targets: a jimp thumbnail under 1 s; if jimp is more than 5x slower
// than sharp, the figures and the choice go in specification/decisions.md.
//
// Run: npm run bench -- thumbnails (no database or Temporal needed: node bench/thumbnails.ts runs it alone).
// BENCH_ROUNDS (default 5); p99 is printed from 20 rounds on.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Jimp } from 'jimp';
import sharp from 'sharp';
import { decodeJpeg } from '../activities/files/jpeg-wasm.ts';
import { photoLikeJpeg, withExifOrientation } from '../activities/files/test-support.ts';
import {
  closeThumbnailPool,
  DEFAULT_THUMBNAIL_SIZE,
  MAX_THUMBNAIL_PIXELS,
  renderThumbnail,
} from '../activities/files/thumbnail.ts';
import { JPEG_QUALITY, renderInProcess } from '../activities/files/thumbnail-render.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SIZE = DEFAULT_THUMBNAIL_SIZE;

/** jimp as its documentation reads: the EXIF orientation is applied in fromBuffer, to the full-size bitmap. */
async function plainJimp(input: Buffer) {
  let at = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - at;
    at = now;
    return ms;
  };
  const image = await Jimp.fromBuffer(input);
  const decode = lap();
  image.scaleToFit({ w: SIZE, h: SIZE });
  const resize = lap();
  await image.getBuffer('image/jpeg', { quality: JPEG_QUALITY });
  const encode = lap();
  return { decode, resize, encode };
}

function packageVersion(name: string): string {
  // Neither jimp's exports map nor @jsquash/jpeg's files make the package.json importable by name.
  const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

async function main() {
  const generated = performance.now();
  const photo = await photoLikeJpeg(4000, 3000);
  const upright = withExifOrientation(photo, 6);
  console.log(
    `thumbnails benchmark: 4000x3000 synthetic photo, ${(photo.length / 2 ** 20).toFixed(2)} MiB JPEG ` +
      `(made in ${Math.round(performance.now() - generated)} ms), ${SIZE} px, ${ROUNDS} rounds, ` +
      `jimp ${packageVersion('jimp')}, @jsquash/jpeg ${packageVersion('@jsquash/jpeg')} (mozjpeg in wasm), ` +
      `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
  );

  type Phases = { decode: number; resize: number; encode: number };
  const phases: Phases[] = [];
  const variants: Record<string, () => Promise<unknown>> = {
    pool: () => renderThumbnail(photo),
    poolOriented: () => renderThumbnail(upright),
    inProcess: () => renderInProcess(photo, SIZE, MAX_THUMBNAIL_PIXELS),
    wasmDecode: () => decodeJpeg(photo, MAX_THUMBNAIL_PIXELS),
    inProcessJpegJs: () => renderInProcess(photo, SIZE, MAX_THUMBNAIL_PIXELS, { jpegDecoder: 'jpeg-js' }),
    plain: async () => phases.push(await plainJimp(photo)),
    sharp: () =>
      sharp(photo)
        .rotate()
        .resize(SIZE, SIZE, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: JPEG_QUALITY })
        .toBuffer(),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let round = -1; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const started = performance.now();
      const usage = process.cpuUsage();
      await run();
      const used = process.cpuUsage(usage);
      if (round >= 0) {
        times[name]!.push(performance.now() - started);
        cpu[name]!.push((used.user + used.system) / 1000);
      }
    }
  }
  phases.shift(); // the warm-up round's
  await closeThumbnailPool();

  const sharpMedian = median(times.sharp!);
  const row = (label: string, values: number[], cpuValues?: number[]) => [
    label,
    formatMs(median(values)),
    ROUNDS >= 20 ? formatMs(percentile(values, 99)) : 'n/a',
    formatMs(Math.max(...values)),
    cpuValues ? formatMs(median(cpuValues)) : '',
    `${(median(values) / sharpMedian).toFixed(1)}x`,
  ];
  const variant = (label: string, name: string) => row(label, times[name]!, cpu[name]!);
  const phaseRows = (list: Phases[]) =>
    (['decode', 'resize', 'encode'] as const).map((phase) =>
      row(
        `  of which ${phase}`,
        list.map((p) => p[phase]),
      ),
    );
  console.log(
    `\n12 MP JPEG → ${SIZE} px thumbnail, ms (median of ${ROUNDS} rounds; load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${cpus().length} CPUs):`,
  );
  printTable(
    ['variant', 'median', 'p99', 'max', 'CPU median', 'of sharp'],
    [
      variant('jimp + wasm decode, renderThumbnail (worker pool)', 'pool'),
      variant('jimp + wasm decode, renderThumbnail, EXIF orientation 6', 'poolOriented'),
      variant('jimp + wasm decode, renderInProcess (this thread)', 'inProcess'),
      variant('  of which the wasm decode (decodeJpeg alone)', 'wasmDecode'),
      variant('jimp + jpeg-js decode, renderInProcess (the former path)', 'inProcessJpegJs'),
      variant('plain jimp (jpeg-js), this thread', 'plain'),
      ...phaseRows(phases),
      variant('sharp (libvips), peer', 'sharp'),
    ],
  );
  const jimpMedian = median(times.pool!);
  const ratio = jimpMedian / sharpMedian;
  const orientedRatio = median(times.poolOriented!) / sharpMedian;
  const decodeRatio = median(phases.map((p) => p.decode)) / median(times.wasmDecode!);
  const cpuRatio = median(cpu.inProcessJpegJs!) / median(cpu.inProcess!);
  console.log(
    `\njimp (pool) / sharp = ${ratio.toFixed(1)}x (${orientedRatio.toFixed(1)}x with orientation 6); jimp thumbnail ${formatMs(jimpMedian)} ms ` +
      `(target under 1000 ms: ${jimpMedian < 1000 ? 'met' : 'missed'}). ` +
      (ratio > 5
        ? 'jimp is more than 5x slower than sharp: record the figures and the choice in specification/decisions.md.'
        : 'jimp is within 5x of sharp.'),
  );
  console.log(
    `decode, jpeg-js / wasm = ${decodeRatio.toFixed(1)}x (wall); renderInProcess CPU, jpeg-js / wasm = ${cpuRatio.toFixed(1)}x`,
  );
  console.log(
    `peak RSS of this process (main thread, pool worker, sharp): ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
  );
}

await main();
