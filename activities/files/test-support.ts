// Images for the thumbnail tests and benchmark, made with sharp (a devDependency) from deterministic pixels.
import sharp from 'sharp';

/**
 * A photo-like JPEG: smooth gradients and soft waves (sky, skin, walls) under per-pixel noise of ±12 (sensor
 * grain), quality 90 with 4:2:0 chroma like a phone camera. At 4000 x 3000 it weighs about what a 12 MP phone photo
 * does, and a JPEG decoder's time follows that entropy: flat colour would decode several times faster.
 */
export async function photoLikeJpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let state = seed >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    const wave = Math.sin(y / 37) * 30;
    for (let x = 0; x < width; x++) {
      // xorshift32: fast, and the same bytes on every run.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const grain = ((state >>> 0) % 25) - 12;
      const i = (y * width + x) * 3;
      const shade = Math.sin((x + y) / 211) * 40 + wave;
      raw[i] = clamp((x / width) * 200 + 30 + shade + grain);
      raw[i + 1] = clamp((y / height) * 180 + 40 - shade / 2 + grain);
      raw[i + 2] = clamp(((x + y) / (width + height)) * 160 + 60 + Math.sin(x / 53) * 25 + grain);
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90, chromaSubsampling: '4:2:0' })
    .toBuffer();
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** The same JPEG bytes with an Exif APP1 segment declaring this Orientation inserted after SOI: no re-encoding. */
export function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  // Big-endian TIFF header, one IFD with one entry: tag 0x0112, type SHORT, count 1, the value, then no next IFD.
  const tiff = Buffer.from([
    0x4d,
    0x4d,
    0,
    42,
    0,
    0,
    0,
    8,
    0,
    1,
    0x01,
    0x12,
    0,
    3,
    0,
    0,
    0,
    1,
    0,
    orientation,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  const data = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.from([0xff, 0xe1, (data.length + 2) >> 8, (data.length + 2) & 255]);
  return Buffer.concat([jpeg.subarray(0, 2), header, data, jpeg.subarray(2)]);
}

/** A JPEG whose stored pixels are landscape, left half red and right half blue, with an EXIF Orientation tag. */
export function halvesJpeg(width: number, height: number, orientation?: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) raw[(y * width + x) * 3 + (x < width / 2 ? 0 : 2)] = 255;
  const image = sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 });
  return (orientation ? image.withMetadata({ orientation }) : image).toBuffer();
}

/** A JPEG whose stored quarters are red, green (top), blue and white (bottom), with an EXIF Orientation tag. */
export function quartersJpeg(width: number, height: number, orientation: number): Promise<Buffer> {
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 255],
  ];
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      raw.set(colours[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)]!, (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer();
}

/** A solid image of the given format; alpha below 1 makes it translucent. */
export function solidImage(
  format: 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff',
  width: number,
  height: number,
  alpha = 1,
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 40, g: 90, b: 160, alpha } } })
    .toFormat(format)
    .toBuffer();
}

/**
 * A decompression bomb that once got past both our header readers (review of issue 10): a real 64 x 64 JPEG whose
 * frame header declares width x height, behind bytes that libjpeg skips and a lenient walk took for a segment.
 * `FF 00 00 06` read as a marker 00 of length 6 lands on `FF C0`, a 16 x 16 frame header; libjpeg skips FF 00 as
 * stray bytes (a warning) and reads `FF E1 00 16` as an APP1 that swallows that frame header, then meets a stray 00
 * and the real segments. About 320 bytes; handed to libjpeg at 20000 x 20000, it took 3.1 GB.
 * `plain` is the same image without the disguise: SOI, then the real segments.
 */
export async function hiddenFrameJpeg(width: number, height: number): Promise<{ bomb: Buffer; plain: Buffer }> {
  const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 10, b: 10 } } })
    .jpeg({ quality: 80 })
    .toBuffer();
  const plain = Buffer.from(small);
  const sof = markerOffsets(plain).find((m) => m.marker === 0xc0)!.at;
  plain.writeUInt16BE(height, sof + 5);
  plain.writeUInt16BE(width, sof + 7);
  const disguise = Buffer.from([
    ...[0xff, 0x00, 0x00, 0x06], // stray bytes to libjpeg; "marker 00, length 6" to a lenient walk
    ...[0xff, 0xe1, 0x00, 22], // to libjpeg, an APP1 holding the next 20 bytes
    ...[
      0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
    ],
    0x00, // one more stray byte to libjpeg
  ]);
  return { bomb: Buffer.concat([plain.subarray(0, 2), disguise, plain.subarray(2)]), plain };
}

/**
 * The markers of a JPEG that a decoder reads, with their offsets, in order: those of the header segments (walked by
 * their lengths) and those between and after the scans (found by scanning: in entropy-coded data FF is followed only
 * by 00, a stuffed byte, or a restart marker D0-D7).
 */
export function markerOffsets(jpeg: Buffer): { marker: number; at: number }[] {
  const found: { marker: number; at: number }[] = [];
  let i = 2;
  while (i + 1 < jpeg.length) {
    if (jpeg[i] !== 0xff) throw new Error(`markerOffsets: no marker at ${i}`);
    const marker = jpeg[i + 1]!;
    found.push({ marker, at: i });
    if (marker === 0xd9) break;
    i += 2 + jpeg.readUInt16BE(i + 2);
    if (marker !== 0xda) continue;
    const isMarker = (at: number) => jpeg[at] === 0xff && jpeg[at + 1]! !== 0 && (jpeg[at + 1]! & 0xf8) !== 0xd0;
    while (i + 1 < jpeg.length && !isMarker(i)) i++;
  }
  return found;
}
