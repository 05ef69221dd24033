// What an image's first bytes declare, read without decoding: its format, its dimensions and a JPEG's EXIF
// orientation. Private to the thumbnailer for now; common/files/image-limits.ts's imageDimensions (upload checks)
// can replace headerDimensions through renderThumbnail's dimensionsOf option if it reads GIF frames and JPEG frame
// headers as this does.

import { isJpegMarker } from '../../common/files/image-limits.ts';

export type Dimensions = { width: number; height: number };
export type DecodableFormat = 'JPEG' | 'PNG' | 'GIF' | 'BMP';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Only the formats jimp 1.x decodes, minus TIFF: jimp decodes every page of a TIFF, so a small first page says
// nothing about the rest. WebP (no decoder among jimp's default formats) and everything else are refused.
export function decodableFormat(b: Buffer): DecodableFormat | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'PNG';
  const gif = b.toString('latin1', 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return 'GIF';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'BMP';
  return undefined;
}

/** Names what an undecodable input is, for the refusal's message. */
export function describeUndecodable(b: Buffer): string {
  if (b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP')
    return 'WebP has no decoder in jimp';
  const head = b.toString('latin1', 0, 4);
  if (head === 'II*\0' || head === 'MM\0*') return 'TIFF is not thumbnailed';
  return 'unrecognised bytes';
}

/**
 * The dimensions an image declares: JPEG (the largest frame header before the first scan), PNG (IHDR), GIF (the
 * logical screen, or the first frame's descriptor when larger: that frame is what gets decoded) and BMP.
 * Undefined for anything else or a header cut short.
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

/**
 * Calls visit for each marker segment of a JPEG up to its first scan (SOS), with the offsets of the marker and of
 * the segment's data; stops early when visit returns true. Returns true when the walk reached the first scan over
 * well-formed segments only: each starting where the last ended, with 0xFF, any 0xFF fill bytes and a marker.
 *
 * Strict where libjpeg is lenient: libjpeg skips bytes that are not a marker (FF 00 among them) with a warning and
 * reads on, so a walk that took them for a segment would check a frame header libjpeg never uses. A crafted file of
 * 321 bytes did exactly that: FF 00 read here as a segment whose length hid a 16 x 16 frame header, which libjpeg
 * read as part of an APP1 before going on to a 20000 x 20000 one (3 GB to decode).
 */
export function jpegSegments(
  b: Buffer,
  visit: (marker: number, at: number, data: number, end: number) => unknown,
): boolean {
  let i = 2;
  while (i + 1 < b.length) {
    if (b[i] !== 0xff) return false;
    while (b[i + 1] === 0xff && i + 2 < b.length) i++; // fill bytes
    const at = i;
    const marker = b[i + 1]!;
    if (!isJpegMarker(marker)) return false;
    i += 2;
    if (marker === 0xda) return true; // SOS: the image data follows
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // TEM, RSTn: no length
    if (marker === 0xd8 || marker === 0xd9 || i + 2 > b.length) return false; // SOI again, EOI, cut short
    const length = b.readUInt16BE(i);
    if (length < 2) return false;
    const end = Math.min(i + length, b.length);
    if (visit(marker, at, i + 2, end)) return false;
    i += length;
  }
  return false;
}

function jpegDimensions(b: Buffer): Dimensions | undefined {
  const frame = jpegFrame(b);
  return frame && { width: frame.width, height: frame.height };
}

/**
 * A JPEG's largest frame header before its first scan: its dimensions and its number of colour components (1 grey,
 * 3 YCbCr or RGB, 4 CMYK or YCCK). Undefined when there is none, or when the segments before the first scan are not
 * all well-formed (see jpegSegments): then it is not known which frame header a decoder would use.
 */
export function jpegFrame(b: Buffer): (Dimensions & { components: number }) | undefined {
  let largest: (Dimensions & { components: number }) | undefined;
  const wellFormed = jpegSegments(b, (marker, _at, data, end) => {
    const isFrameHeader = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (!isFrameHeader || data + 6 > end) return;
    const frame = { height: b.readUInt16BE(data + 1), width: b.readUInt16BE(data + 3), components: b[data + 5]! };
    if (!largest || frame.width * frame.height > largest.width * largest.height) largest = frame;
  });
  return wellFormed ? largest : undefined;
}

/** A JPEG's EXIF Orientation (1-8) from the first Exif APP1 segment's first IFD; undefined when absent. */
export function jpegOrientation(b: Buffer): number | undefined {
  let orientation: number | undefined;
  jpegSegments(b, (marker, _at, data, end) => {
    if (marker !== 0xe1 || b.toString('latin1', data, data + 6) !== 'Exif\0\0') return false;
    orientation = exifOrientation(b.subarray(data + 6, end));
    return true;
  });
  return orientation;
}

function exifOrientation(tiff: Buffer): number | undefined {
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const u16 = (at: number) => (order === 'II' ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (order === 'II' ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  for (let k = 0, entry = ifd + 2; k < u16(ifd) && entry + 12 <= tiff.length; k++, entry += 12) {
    // Tag 0x0112 Orientation, type SHORT, its value in the entry's first two value bytes.
    if (u16(entry) !== 0x0112) continue;
    const value = u16(entry + 2) === 3 ? u16(entry + 8) : 0;
    return value >= 1 && value <= 8 ? value : undefined;
  }
  return undefined;
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
