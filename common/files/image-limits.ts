// Image dimensions from the header bytes alone, so a decompression bomb (a few kilobytes of PNG declaring 100000 x
// 100000 pixels, 40 GB once decoded) is refused before anything allocates a bitmap for it. Reads PNG (IHDR), GIF
// (logical screen), BMP (DIB header), WebP (VP8, VP8L, VP8X) and JPEG (the SOFn frame header, found by walking the
// marker segments).
//
// Where the header is:
// - PNG, GIF, BMP, WebP: within the first 30 bytes.
// - JPEG: after every APPn/DQT/DHT/... segment that precedes the frame header. EXIF (APP1) alone can be 64 KiB, and
//   ICC profiles (APP2), XMP and Photoshop (APP13) segments can follow, so the frame header may lie past any fixed
//   sample. probeImageDimensions then answers 'need-more' with the number of leading bytes to read before asking
//   again (the quarantined file is on disk, so reading more is cheap); past MAX_IMAGE_HEADER_BYTES it gives up and
//   the image is treated as unreadable.
//
// A GIF's frames can be declared larger than its logical screen; decoders that honour the frame size need their own
// limit. The screen size is what jimp allocates for.

/** Largest image the thumbnail step decodes: 50 megapixels (200 MB as RGBA). */
export const MAX_IMAGE_PIXELS = 50_000_000;
/** How far into a JPEG the frame header is looked for before the image is called unreadable. */
export const MAX_IMAGE_HEADER_BYTES = 1024 * 1024;

export type ImageFormat = 'png' | 'gif' | 'bmp' | 'webp' | 'jpeg';

export type ImageProbe =
  | { status: 'ok'; format: ImageFormat; width: number; height: number }
  /** The header is not within `head`: read at least `bytes` leading bytes and probe again. */
  | { status: 'need-more'; format: ImageFormat; bytes: number }
  /** A format this reads, with a header that makes no sense (zero size, broken segments). */
  | { status: 'invalid'; format: ImageFormat; reason: string }
  /** Not a format this reads. */
  | { status: 'unknown' };

/** The image's dimensions, or undefined when they are not in these bytes (see probeImageDimensions for why). */
export function imageDimensions(head: Buffer): { width: number; height: number } | undefined {
  const probe = probeImageDimensions(head);
  return probe.status === 'ok' ? { width: probe.width, height: probe.height } : undefined;
}

export type PixelCheck =
  | { ok: true; width: number; height: number }
  | { ok: false; code: 'too_large' | 'unreadable'; reason: string }
  | { ok: false; code: 'need_more'; reason: string; bytes: number };

/** Whether an image may be decoded: its header read and its pixel count within the limit. */
export function checkImagePixels(head: Buffer, maxPixels = MAX_IMAGE_PIXELS): PixelCheck {
  const probe = probeImageDimensions(head);
  switch (probe.status) {
    case 'ok': {
      const pixels = probe.width * probe.height;
      if (pixels <= maxPixels) return { ok: true, width: probe.width, height: probe.height };
      return {
        ok: false,
        code: 'too_large',
        reason: `the image is ${probe.width} × ${probe.height} pixels (${megapixels(pixels)} megapixels); the limit is ${megapixels(maxPixels)} megapixels`,
      };
    }
    case 'need-more':
      return { ok: false, code: 'need_more', reason: 'the image header lies further in', bytes: probe.bytes };
    case 'invalid':
      return {
        ok: false,
        code: 'unreadable',
        reason: `the ${probe.format.toUpperCase()} header is damaged: ${probe.reason}`,
      };
    case 'unknown':
      return { ok: false, code: 'unreadable', reason: 'not an image format whose size we can read' };
  }
}

const megapixels = (pixels: number) => {
  const mp = pixels / 1_000_000;
  return mp >= 10 ? Math.round(mp).toString() : mp.toFixed(1);
};

export function probeImageDimensions(head: Buffer): ImageProbe {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return png(head);
  if (startsWith(head, [0xff, 0xd8, 0xff])) return jpeg(head);
  if (head.toString('latin1', 0, 6) === 'GIF87a' || head.toString('latin1', 0, 6) === 'GIF89a') return gif(head);
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return webp(head);
  if (head.toString('latin1', 0, 2) === 'BM' && head.length >= 14) return bmp(head);
  return { status: 'unknown' };
}

const startsWith = (b: Buffer, bytes: number[]) => b.length >= bytes.length && bytes.every((x, i) => b[i] === x);

function sized(format: ImageFormat, width: number, height: number): ImageProbe {
  if (width <= 0 || height <= 0)
    return { status: 'invalid', format, reason: `it declares ${width} × ${height} pixels` };
  return { status: 'ok', format, width, height };
}

function png(b: Buffer): ImageProbe {
  if (b.length < 24) return { status: 'need-more', format: 'png', bytes: 24 };
  if (b.toString('latin1', 12, 16) !== 'IHDR')
    return { status: 'invalid', format: 'png', reason: 'the first chunk is not IHDR' };
  return sized('png', b.readUInt32BE(16), b.readUInt32BE(20));
}

function gif(b: Buffer): ImageProbe {
  if (b.length < 10) return { status: 'need-more', format: 'gif', bytes: 10 };
  return sized('gif', b.readUInt16LE(6), b.readUInt16LE(8));
}

function bmp(b: Buffer): ImageProbe {
  if (b.length < 18) return { status: 'need-more', format: 'bmp', bytes: 18 };
  const dibSize = b.readUInt32LE(14);
  if (dibSize === 12) {
    if (b.length < 22) return { status: 'need-more', format: 'bmp', bytes: 22 };
    return sized('bmp', b.readUInt16LE(18), b.readUInt16LE(20));
  }
  if (dibSize < 40) return { status: 'invalid', format: 'bmp', reason: `unknown DIB header of ${dibSize} bytes` };
  if (b.length < 26) return { status: 'need-more', format: 'bmp', bytes: 26 };
  // A negative height means the rows are stored top-down; the size is its magnitude.
  return sized('bmp', b.readInt32LE(18), Math.abs(b.readInt32LE(22)));
}

function webp(b: Buffer): ImageProbe {
  if (b.length < 30) return { status: 'need-more', format: 'webp', bytes: 30 };
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a)
      return { status: 'invalid', format: 'webp', reason: 'no VP8 start code' };
    return sized('webp', b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff);
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return { status: 'invalid', format: 'webp', reason: 'no VP8L signature' };
    const bits = b.readUInt32LE(21);
    return sized('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X') return sized('webp', b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1);
  return { status: 'invalid', format: 'webp', reason: `unknown first chunk ${JSON.stringify(chunk)}` };
}

// Start-of-frame markers: SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
const isStartOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * Whether a byte after 0xFF (and any 0xFF fill bytes) names a marker: TEM (01) or C0-FE. 00 is not one: in entropy
 * data FF 00 is a stuffed FF, and libjpeg, meeting it between segments, skips it as stray bytes and looks further;
 * 02-BF are reserved, and libjpeg stops at them.
 */
export const isJpegMarker = (byte: number) => byte === 0x01 || (byte >= 0xc0 && byte <= 0xfe);

function jpeg(b: Buffer): ImageProbe {
  const more = (bytes: number): ImageProbe =>
    bytes > MAX_IMAGE_HEADER_BYTES
      ? {
          status: 'invalid',
          format: 'jpeg',
          reason: `no frame header in the first ${MAX_IMAGE_HEADER_BYTES} bytes`,
        }
      : { status: 'need-more', format: 'jpeg', bytes };
  const invalid = (reason: string): ImageProbe => ({ status: 'invalid', format: 'jpeg', reason });
  // Strict, where libjpeg is lenient: it skips bytes that are not a marker (with a warning) and reads on, so a walk
  // that took them for a segment would read a frame header libjpeg never sees. A crafted file did exactly that (FF 00
  // read as a segment whose length hid a 16 x 16 frame header; libjpeg read those bytes as an APP1 and went on to a
  // 20000 x 20000 one). Every segment must start where the last one ended, so both read the same first frame header;
  // a second one is an error to libjpeg.
  let pos = 2;
  for (;;) {
    // Each segment: 0xFF, optional 0xFF fill bytes, the marker, then (for most markers) a 2-byte length.
    if (pos > MAX_IMAGE_HEADER_BYTES) return more(pos);
    // Enough for the next marker and, if it is the frame header, the size in it.
    if (pos >= b.length) return more(pos + 9);
    if (b[pos] !== 0xff) return invalid(`expected a marker at byte ${pos}`);
    while (pos < b.length && b[pos] === 0xff) pos++;
    if (pos >= b.length) return more(pos + 1);
    const marker = b[pos]!;
    if (!isJpegMarker(marker)) return invalid(`expected a marker at byte ${pos - 1}, found FF ${hexByte(marker)}`);
    pos++;
    // Standalone markers carry no length: TEM and the restart markers.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd8) return invalid('a second start-of-image marker');
    if (marker === 0xd9 || marker === 0xda) return invalid('the image data starts before any frame header');
    if (pos + 2 > b.length) return more(pos + 2);
    const length = b.readUInt16BE(pos);
    if (length < 2) return invalid(`segment length ${length}`);
    if (isStartOfFrame(marker)) {
      // length(2) precision(1) height(2) width(2)
      if (pos + 7 > b.length) return more(pos + 7);
      const height = b.readUInt16BE(pos + 3);
      const width = b.readUInt16BE(pos + 5);
      // Height 0 defers it to a DNL marker after the first scan: rare, and not readable from the header.
      return sized('jpeg', width, height);
    }
    pos += length;
  }
}

const hexByte = (byte: number) => byte.toString(16).padStart(2, '0').toUpperCase();
