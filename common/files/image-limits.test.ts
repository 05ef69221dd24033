import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { Jimp } from 'jimp';
import { SNIFF_BYTES } from './file-types.ts';
import {
  checkImagePixels,
  type ImageProbe,
  imageDimensions,
  MAX_IMAGE_HEADER_BYTES,
  MAX_IMAGE_PIXELS,
  probeImageDimensions,
} from './image-limits.ts';

const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A well-formed PNG that declares any size: the bomb is its header, not its bytes. */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no filter, no interlace
  return Buffer.concat([
    hex('89504e470d0a1a0a'),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', hex('789c030000000001')), // a tiny zlib stream
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG head with `appBytes` of APP1 (EXIF-like) padding before a baseline or progressive frame header. */
function jpegWithApp(appBytes: number, width: number, height: number, sof = 0xc0): Buffer {
  const segments: Buffer[] = [hex('ffd8')];
  for (let left = appBytes; left > 0; ) {
    const size = Math.min(left, 65533);
    const app = Buffer.alloc(4 + size);
    app.writeUInt16BE(0xffe1, 0);
    app.writeUInt16BE(size + 2, 2);
    segments.push(app);
    left -= size;
  }
  const sofSegment = Buffer.alloc(2 + 17);
  sofSegment.writeUInt16BE(0xff00 | sof, 0);
  sofSegment.writeUInt16BE(17, 2);
  sofSegment[4] = 8;
  sofSegment.writeUInt16BE(height, 5);
  sofSegment.writeUInt16BE(width, 7);
  segments.push(sofSegment, hex('ffda 0008 01 0100 3f00'));
  return Buffer.concat(segments);
}

describe('image dimensions from headers', () => {
  it('reads the size of real PNG, JPEG, GIF and BMP files', async () => {
    const image = new Jimp({ width: 17, height: 9, color: 0x336699ff });
    for (const mime of ['image/png', 'image/jpeg', 'image/gif', 'image/bmp'] as const) {
      const bytes = await image.getBuffer(mime);
      assert.deepEqual(imageDimensions(bytes), { width: 17, height: 9 }, mime);
      assert.deepEqual(checkImagePixels(bytes), { ok: true, width: 17, height: 9 });
    }
  });

  it('reads WebP in its three forms (lossy, lossless, extended)', () => {
    const riff = (chunk: string, body: Buffer) =>
      Buffer.concat([
        Buffer.from('RIFF'),
        hex('00000000'),
        Buffer.from(`WEBP${chunk}`),
        hex('00000000'),
        body,
        Buffer.alloc(10),
      ]);
    // VP8: frame tag (3), start code 9d 01 2a, 14-bit width and height.
    assert.deepEqual(imageDimensions(riff('VP8 ', hex('000000 9d012a 2003 5802'))), { width: 800, height: 600 });
    // VP8L: signature 2f, then (width-1) and (height-1) in 14 bits each.
    const bits = Buffer.alloc(4);
    bits.writeUInt32LE((1920 - 1) | ((1080 - 1) << 14));
    assert.deepEqual(imageDimensions(riff('VP8L', Buffer.concat([hex('2f'), bits, hex('00')]))), {
      width: 1920,
      height: 1080,
    });
    // VP8X: flags (4), then (width-1) and (height-1) in 24 bits each.
    assert.deepEqual(imageDimensions(riff('VP8X', hex('00000000 ff3f00 ff3f00'))), { width: 16384, height: 16384 });
  });

  it('reads a top-down BMP (negative height) and an OS/2 BMP', () => {
    const header = Buffer.alloc(54);
    header.write('BM', 0, 'latin1');
    header.writeUInt32LE(40, 14);
    header.writeInt32LE(640, 18);
    header.writeInt32LE(-480, 22);
    assert.deepEqual(imageDimensions(header), { width: 640, height: 480 });
    const os2 = Buffer.alloc(26);
    os2.write('BM', 0, 'latin1');
    os2.writeUInt32LE(12, 14);
    os2.writeUInt16LE(320, 18);
    os2.writeUInt16LE(200, 20);
    assert.deepEqual(imageDimensions(os2), { width: 320, height: 200 });
  });

  it('finds a progressive JPEG frame header behind application segments', () => {
    assert.deepEqual(imageDimensions(jpegWithApp(3000, 4032, 3024, 0xc2)), { width: 4032, height: 3024 });
    assert.deepEqual(imageDimensions(jpegWithApp(0, 1, 1)), { width: 1, height: 1 });
  });

  describe('decompression bombs', () => {
    it(`refuses a 100000 × 100000 PNG of ${pngDeclaring(1, 1).length} bytes before decoding`, () => {
      const bomb = pngDeclaring(100_000, 100_000);
      assert.ok(bomb.length < 100);
      const check = checkImagePixels(bomb);
      assert.deepEqual(check, {
        ok: false,
        code: 'too_large',
        reason: 'the image is 100000 × 100000 pixels (10000 megapixels); the limit is 50 megapixels',
      });
    });

    it('refuses just past the limit and accepts just under it, with a limit of the caller’s choosing', () => {
      assert.equal(MAX_IMAGE_PIXELS, 50_000_000);
      assert.equal(checkImagePixels(pngDeclaring(10_000, 5_000)).ok, true);
      assert.equal(checkImagePixels(pngDeclaring(10_000, 5_001)).ok, false);
      assert.equal(checkImagePixels(pngDeclaring(4000, 3000), 12_000_000).ok, true);
      assert.equal(checkImagePixels(pngDeclaring(4000, 3001), 12_000_000).ok, false);
    });

    it('refuses bombs in the other formats', () => {
      assert.equal(checkImagePixels(jpegWithApp(100, 65_535, 65_535)).ok, false);
      const gif = Buffer.concat([Buffer.from('GIF89a'), hex('ffff ffff'), Buffer.alloc(20)]);
      assert.deepEqual(imageDimensions(gif), { width: 65_535, height: 65_535 });
      assert.equal(checkImagePixels(gif).ok, false);
      const bmp = Buffer.alloc(54);
      bmp.write('BM', 0, 'latin1');
      bmp.writeUInt32LE(40, 14);
      bmp.writeInt32LE(100_000, 18);
      bmp.writeInt32LE(-100_000, 22);
      assert.equal(checkImagePixels(bmp).ok, false);
    });

    it('refuses a JPEG whose real frame header hides behind bytes libjpeg skips', () => {
      // libjpeg skips FF 00 between segments as stray bytes and reads FF E1 00 16 as an APP1 holding the 16 x 16 frame
      // header, then skips a stray 00 and decodes the 20000 x 20000 one (3.1 GB for 321 bytes). Read as a segment,
      // "marker 00, length 6" lands on the small one.
      const small = '0011 08 0010 0010 03 012200 021101 031101';
      const real = 'ffc0 0011 08 4e20 4e20 03 012200 021101 031101';
      const scan = 'ffda 000c 03 0100 0211 0311 003f00 f8';
      const bomb = hex(`ffd8 ff000006 ffe10016 ffc0 ${small} 00 ${real} ${scan}`);
      assert.deepEqual(checkImagePixels(bomb), {
        ok: false,
        code: 'unreadable',
        reason: 'the JPEG header is damaged: expected a marker at byte 2, found FF 00',
      });
      assert.equal(checkImagePixels(hex(`ffd8 ${real} ${scan}`)).ok, false, 'the real frame is too large');
      // Any byte where a marker should be is refused, not skipped: libjpeg would skip it and read on.
      assert.equal(probeImageDimensions(hex(`ffd8 ffe10004 0000 12 ffc0 ${small} ${scan}`)).status, 'invalid');
      assert.equal(probeImageDimensions(hex(`ffd8 ff12 0004 0000 ffc0 ${small} ${scan}`)).status, 'invalid');
      // Fill bytes before a marker are allowed, as libjpeg allows them.
      assert.deepEqual(imageDimensions(hex(`ffd8 ffffffe1 0004 0000 ffffc0 ${small} ${scan}`)), {
        width: 16,
        height: 16,
      });
    });

    it('handles the largest sizes a PNG can declare without overflow', () => {
      const check = checkImagePixels(pngDeclaring(0x7fffffff, 0x7fffffff));
      assert.equal(check.ok, false);
      assert.equal(!check.ok && check.code, 'too_large');
    });
  });

  describe('when the header is not in the bytes given', () => {
    it('asks for more when the JPEG frame header lies past the sample (large EXIF)', () => {
      const jpeg = jpegWithApp(150_000, 6000, 4000);
      const first = probeImageDimensions(jpeg.subarray(0, SNIFF_BYTES));
      assert.equal(first.status, 'need-more');
      assert.equal(imageDimensions(jpeg.subarray(0, SNIFF_BYTES)), undefined);
      // Following the answers reaches the frame header without reading the image data.
      let head = jpeg.subarray(0, SNIFF_BYTES);
      let probe: ImageProbe = first;
      for (let rounds = 0; probe.status === 'need-more'; rounds++) {
        assert.ok(rounds < 5 && probe.bytes > head.length);
        head = jpeg.subarray(0, probe.bytes);
        probe = probeImageDimensions(head);
      }
      assert.deepEqual(probe, { status: 'ok', format: 'jpeg', width: 6000, height: 4000 });
      assert.ok(head.length < jpeg.length);
      const check = checkImagePixels(jpeg.subarray(0, 100));
      assert.equal(!check.ok && check.code, 'need_more');
    });

    it('gives up on a JPEG whose frame header is past the scan limit', () => {
      const jpeg = jpegWithApp(MAX_IMAGE_HEADER_BYTES + 10, 10, 10);
      const probe = probeImageDimensions(jpeg);
      assert.equal(probe.status, 'invalid');
      assert.equal(checkImagePixels(jpeg).ok, false);
    });

    it('asks for the few bytes a short PNG, GIF or WebP head lacks', () => {
      assert.deepEqual(probeImageDimensions(pngDeclaring(10, 10).subarray(0, 16)), {
        status: 'need-more',
        format: 'png',
        bytes: 24,
      });
      assert.equal(probeImageDimensions(Buffer.from('GIF89a')).status, 'need-more');
    });
  });

  it('calls damaged headers invalid and other formats unknown', () => {
    assert.equal(probeImageDimensions(pngDeclaring(0, 10)).status, 'invalid');
    assert.equal(probeImageDimensions(jpegWithApp(0, 100, 0)).status, 'invalid');
    // Image data before any frame header.
    assert.equal(probeImageDimensions(hex('ffd8 ffda 0008 01 0100 3f00')).status, 'invalid');
    assert.equal(probeImageDimensions(hex('ffd8 ffe1 0001')).status, 'invalid');
    assert.deepEqual(probeImageDimensions(Buffer.from('%PDF-1.7')), { status: 'unknown' });
    assert.deepEqual(probeImageDimensions(Buffer.alloc(0)), { status: 'unknown' });
    const check = checkImagePixels(Buffer.from('hello'));
    assert.equal(!check.ok && check.code, 'unreadable');
  });
});
