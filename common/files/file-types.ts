// What an upload is, decided from its first bytes against an allow-list; the name and the client's Content-Type
// are only checked against that decision, never trusted for it (issue 10, "Type from the bytes").
//
// The allow-list is what a support desk receives: screenshots and photos, PDFs, Office and OpenDocument files,
// plain text, CSV, JSON and saved e-mails (logs, exports), ZIP archives (bundles of logs; clamd scans inside them),
// and short videos and voice or audio recordings. Refused:
// - programs and installers of every platform (Windows PE, ELF, Mach-O, MSI and other OLE files, APK, JAR, DMG,
//   WebAssembly, ...), and scripts: text starting with `#!`, or named with an extension a desktop runs on a
//   double-click (.bat, .cmd, .ps1, .vbs, .js, .sh, ...);
// - HTML, SVG and XML, by content or by name. They can carry scripts; refusing them outright is simpler to reason
//   about than storing them and trusting every download path to keep them as attachments under a sandbox CSP
//   (which the download endpoint still does for everything). People can attach a PDF or PNG instead, or zip them.
// - Office files with macros (.docm, .xlsm, ...) and the legacy binary Office formats (.doc, .xls, .ppt), which
//   file-type cannot tell from an MSI installer (all are OLE compound files);
// - anything else file-type recognises (other archives, fonts, disk images, ...) and anything it does not that is
//   not text.
//
// Text has no magic number: a head that is valid UTF-8, without NUL and with few control characters, is text. Its
// flavour (plain, CSV, JSON, e-mail) comes from the name, which is harmless: every text flavour is served the same
// way (as an attachment, never inline).
//
// Limits of file-type worth knowing:
// - Office Open XML (docx/xlsx/pptx) and OpenDocument are ZIP files; file-type names them from the entries it can
//   read in the sample ([Content_Types].xml, or the word/, xl/, ppt/ directories, or mimetype). A document whose
//   first entries name none of these and outgrow the sample (docProps/thumbnail.jpeg first) reads as a plain ZIP. Such a ZIP named .docx/.xlsx/.pptx/.odt/... is accepted as a
//   ZIP archive (served as application/zip under its name), not refused as spoofed.
// - MP4, MOV and M4A are the same container (ISO BMFF) told apart by a brand the encoder chooses, so names and
//   Content-Types within that family are not held against each other.
// - Any file starting with "MZ" reads as a Windows program.
import { fileTypeFromBuffer } from 'file-type';

export type FileKind = {
  /** The Content-Type the download is served with. */
  mime: string;
  /** The canonical extension, without the dot. */
  ext: string;
  /** A raster image a browser displays: the only kind ever served inline. */
  raster: boolean;
  /** A raster image the thumbnail step (jimp: JPEG, PNG, GIF, BMP) can decode. */
  thumbnail: boolean;
  /** What to call it in plain words ("a PDF document"). */
  label: string;
};

export type Classification =
  | { ok: true; kind: FileKind }
  | { ok: false; reason: string; code: 'not_allowed' | 'spoofed' | 'unknown' };

/**
 * How many leading bytes classifyFile reads (give it fewer only when the file is shorter). More than file-type's
 * 4100-byte sample, so Office documents are told from plain ZIPs more often and a JPEG's frame header usually falls
 * inside it (image-limits.ts), at the cost of buffering 64 KiB per upload in progress.
 */
export const SNIFF_BYTES = 64 * 1024;

type Entry = FileKind & {
  /** file-type's `ext` values that mean this kind. */
  detected: readonly string[];
  /** Extensions a name of this kind may have. */
  names: readonly string[];
  /** Content-Types clients send for it. */
  mimes: readonly string[];
};

const kind = (
  mime: string,
  ext: string,
  label: string,
  more: { raster?: boolean; thumbnail?: boolean; detected?: string[]; names?: string[]; mimes?: string[] } = {},
): Entry => ({
  mime,
  ext,
  label,
  raster: more.raster ?? false,
  thumbnail: more.thumbnail ?? false,
  detected: more.detected ?? [ext],
  names: more.names ?? [ext],
  mimes: [mime, ...(more.mimes ?? [])],
});

const OOXML = 'application/vnd.openxmlformats-officedocument';
const ODF = 'application/vnd.oasis.opendocument';
const ISO_MEDIA_NAMES = ['mp4', 'm4v', 'm4a', 'mov', 'qt', '3gp'];
const ISO_MEDIA_MIMES = [
  'video/mp4',
  'video/x-m4v',
  'video/quicktime',
  'audio/mp4',
  'audio/x-m4a',
  'audio/m4a',
  'video/3gpp',
];

const binaryKinds: readonly Entry[] = [
  kind('image/jpeg', 'jpg', 'a JPEG image', {
    raster: true,
    thumbnail: true,
    names: ['jpg', 'jpeg', 'jpe', 'jfif'],
    mimes: ['image/jpg', 'image/pjpeg'],
  }),
  kind('image/png', 'png', 'a PNG image', { raster: true, thumbnail: true, mimes: ['image/x-png'] }),
  kind('image/gif', 'gif', 'a GIF image', { raster: true, thumbnail: true }),
  kind('image/webp', 'webp', 'a WebP image', { raster: true }),
  kind('image/bmp', 'bmp', 'a BMP image', {
    raster: true,
    thumbnail: true,
    names: ['bmp', 'dib'],
    mimes: ['image/x-bmp', 'image/x-ms-bmp'],
  }),
  // Most browsers cannot display HEIC and jimp cannot decode it: stored and downloaded, never inline.
  kind('image/heic', 'heic', 'a HEIC photo', {
    names: ['heic', 'heif'],
    mimes: ['image/heif', 'image/heic-sequence', 'image/heif-sequence'],
  }),
  kind('application/pdf', 'pdf', 'a PDF document', { mimes: ['application/x-pdf'] }),
  kind(`${OOXML}.wordprocessingml.document`, 'docx', 'a Word document'),
  kind(`${OOXML}.spreadsheetml.sheet`, 'xlsx', 'an Excel spreadsheet'),
  kind(`${OOXML}.presentationml.presentation`, 'pptx', 'a PowerPoint presentation'),
  kind(`${ODF}.text`, 'odt', 'an OpenDocument text'),
  kind(`${ODF}.spreadsheet`, 'ods', 'an OpenDocument spreadsheet'),
  kind(`${ODF}.presentation`, 'odp', 'an OpenDocument presentation'),
  kind('application/zip', 'zip', 'a ZIP archive', {
    mimes: ['application/x-zip-compressed', 'application/x-zip', 'multipart/x-zip'],
  }),
  kind('video/mp4', 'mp4', 'an MP4 video', {
    detected: ['mp4', 'm4v'],
    names: ISO_MEDIA_NAMES,
    mimes: ISO_MEDIA_MIMES,
  }),
  kind('video/quicktime', 'mov', 'a QuickTime video', { names: ISO_MEDIA_NAMES, mimes: ISO_MEDIA_MIMES }),
  kind('video/webm', 'webm', 'a WebM video', { mimes: ['audio/webm'] }),
  kind('audio/mpeg', 'mp3', 'an MP3 recording', { mimes: ['audio/mp3', 'audio/mpeg3', 'audio/x-mpeg-3'] }),
  kind('audio/mp4', 'm4a', 'an M4A recording', { names: ISO_MEDIA_NAMES, mimes: ISO_MEDIA_MIMES }),
  kind('audio/wav', 'wav', 'a WAV recording', { mimes: ['audio/x-wav', 'audio/wave', 'audio/vnd.wave'] }),
  kind('audio/ogg', 'ogg', 'an Ogg recording', {
    detected: ['ogg', 'oga', 'opus'],
    names: ['ogg', 'oga', 'opus'],
    mimes: ['audio/opus', 'application/ogg'],
  }),
];

const textKinds = {
  plain: kind('text/plain', 'txt', 'a text file', { names: ['txt', 'text', 'log', 'md', 'markdown'] }),
  csv: kind('text/csv', 'csv', 'a CSV file', {
    names: ['csv', 'tsv'],
    // Windows reports .csv as Excel's type when Excel is installed.
    mimes: ['application/csv', 'text/comma-separated-values', 'text/x-csv', 'application/vnd.ms-excel'],
  }),
  json: kind('application/json', 'json', 'a JSON file', { mimes: ['text/json'] }),
  eml: kind('message/rfc822', 'eml', 'an e-mail message'),
};

const entries: readonly Entry[] = [...binaryKinds, ...Object.values(textKinds)];

export const allowedTypes: readonly FileKind[] = entries.map(publicKind);

function publicKind(entry: Entry): FileKind {
  return { mime: entry.mime, ext: entry.ext, raster: entry.raster, thumbnail: entry.thumbnail, label: entry.label };
}

// What refused types are, in plain words; the message says "this looks like <label>; not allowed".
const PROGRAM = 'program';
const refusedByContent: Record<string, { label: string; kind: typeof PROGRAM | 'markup' | 'other' }> = {
  exe: { label: 'a Windows program', kind: PROGRAM },
  cfb: { label: 'a Windows installer or an old-format Office file (.doc, .xls, .ppt, .msi)', kind: PROGRAM },
  elf: { label: 'a Linux program', kind: PROGRAM },
  macho: { label: 'a macOS program', kind: PROGRAM },
  dmg: { label: 'a macOS disk image', kind: PROGRAM },
  apk: { label: 'an Android app', kind: PROGRAM },
  jar: { label: 'a Java program', kind: PROGRAM },
  class: { label: 'a Java program', kind: PROGRAM },
  wasm: { label: 'a WebAssembly program', kind: PROGRAM },
  swf: { label: 'a Flash program', kind: PROGRAM },
  lnk: { label: 'a Windows shortcut', kind: PROGRAM },
  crx: { label: 'a browser extension', kind: PROGRAM },
  xpi: { label: 'a browser extension', kind: PROGRAM },
  deb: { label: 'a Linux package', kind: PROGRAM },
  rpm: { label: 'a Linux package', kind: PROGRAM },
  docm: { label: 'a Word document with macros', kind: PROGRAM },
  dotm: { label: 'a Word template with macros', kind: PROGRAM },
  xlsm: { label: 'an Excel spreadsheet with macros', kind: PROGRAM },
  xltm: { label: 'an Excel template with macros', kind: PROGRAM },
  pptm: { label: 'a PowerPoint presentation with macros', kind: PROGRAM },
  ppsm: { label: 'a PowerPoint slideshow with macros', kind: PROGRAM },
  potm: { label: 'a PowerPoint template with macros', kind: PROGRAM },
  xml: { label: 'an XML or SVG document, which can carry scripts', kind: 'markup' },
};

// Names a desktop runs, or a browser opens as a page, on a double-click whatever the bytes are: refused by name
// even when the content would be allowed (a text file named run.bat).
const refusedNames: Record<string, string> = Object.fromEntries([
  ...['exe', 'com', 'scr', 'pif', 'cpl', 'dll', 'sys', 'msi', 'msp', 'appx', 'msix'].map((e) => [
    e,
    'runs as a Windows program',
  ]),
  ...[
    'bat',
    'cmd',
    'ps1',
    'psm1',
    'vbs',
    'vbe',
    'js',
    'jse',
    'mjs',
    'wsf',
    'wsh',
    'hta',
    'reg',
    'inf',
    'lnk',
    'url',
  ].map((e) => [e, 'runs as a Windows script']),
  ...['sh', 'bash', 'zsh', 'command', 'run', 'elf', 'so', 'deb', 'rpm', 'appimage'].map((e) => [
    e,
    'runs as a program or script on Linux or macOS',
  ]),
  ...['app', 'dmg', 'pkg', 'dylib'].map((e) => [e, 'runs as a macOS program']),
  ...['jar', 'class', 'apk', 'wasm', 'swf'].map((e) => [e, 'runs as a program']),
  ...['html', 'htm', 'xhtml', 'shtml', 'mht', 'mhtml', 'svg', 'svgz', 'xml', 'xsl', 'xslt'].map((e) => [
    e,
    'opens as a web page or SVG image, which can carry scripts',
  ]),
  ...['doc', 'dot', 'xls', 'xlt', 'ppt', 'pot', 'pps'].map((e) => [
    e,
    'is an old-format Office file, which can carry macros',
  ]),
  ...['docm', 'dotm', 'xlsm', 'xltm', 'xlam', 'pptm', 'potm', 'ppsm'].map((e) => [e, 'is an Office file with macros']),
]);

// Claimed Content-Types that name something refused, so a contradiction is reported even for those.
const refusedMimes: Record<string, string> = {
  'application/x-msdownload': 'a Windows program',
  'application/x-msdos-program': 'a Windows program',
  'application/vnd.microsoft.portable-executable': 'a Windows program',
  'application/x-executable': 'a program',
  'application/x-sh': 'a shell script',
  'text/x-shellscript': 'a shell script',
  'application/javascript': 'a script',
  'text/javascript': 'a script',
  'text/html': 'a web page',
  'application/xhtml+xml': 'a web page',
  'image/svg+xml': 'an SVG image',
  'application/xml': 'an XML document',
  'text/xml': 'an XML document',
};

// Says nothing about the content: browsers send these when they do not know.
const UNINFORMATIVE_MIMES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown']);

export async function classifyFile(head: Buffer, claimed: { name: string; mime?: string }): Promise<Classification> {
  if (head.length === 0) return { ok: false, code: 'unknown', reason: 'the file is empty' };
  const sample = head.subarray(0, SNIFF_BYTES);
  const claimedExt = extensionOf(claimed.name);
  const claimedMime = (claimed.mime ?? '').split(';')[0]!.trim().toLowerCase();

  const detected = await fileTypeFromBuffer(sample);
  if (detected) {
    const refused = refusedByContent[detected.ext];
    if (refused) return refuse(refused.label, claimedExt, refused.kind === PROGRAM);
    const entry = binaryKinds.find((e) => e.detected.includes(detected.ext));
    if (!entry) return refuse(`${article(detected.ext)} .${detected.ext} file (${detected.mime})`, claimedExt, false);
    // A ZIP named as an Office or OpenDocument file: see the note on file-type's limits above.
    if (entry.ext === 'zip' && claimedExt && OFFICE_NAMES.has(claimedExt)) return { ok: true, kind: publicKind(entry) };
    return confirm(entry, claimedExt, claimedMime);
  }

  if (!isText(sample))
    return {
      ok: false,
      code: 'unknown',
      reason:
        'we could not tell what kind of file this is; allowed are images, PDF, Office documents, text, ZIP, audio and video',
    };
  const text = sample.toString('utf8', hasBom(sample) ? 3 : 0, Math.min(sample.length, 1024)).trimStart();
  if (text.startsWith('#!')) return refuse('a script (it starts with #!)', claimedExt, true);
  if (looksLikeMarkup(text)) return refuse('a web page or SVG image, which can carry scripts', claimedExt, false);
  const flavour =
    Object.values(textKinds).find((e) => claimedExt !== undefined && e.names.includes(claimedExt)) ?? textKinds.plain;
  return confirm(flavour, claimedExt, claimedMime, true);
}

const OFFICE_NAMES = new Set(['docx', 'xlsx', 'pptx', 'odt', 'ods', 'odp']);

/** The content is allowed; a name or Content-Type that says otherwise is refused as spoofed. */
function confirm(entry: Entry, claimedExt: string | undefined, claimedMime: string, text = false): Classification {
  const content = entry.label;
  if (claimedExt !== undefined && refusedNames[claimedExt])
    return {
      ok: false,
      code: 'not_allowed',
      reason: `a file named .${claimedExt} ${refusedNames[claimedExt]}; not allowed`,
    };
  if (claimedExt !== undefined && !entry.names.includes(claimedExt)) {
    const named = entries.find((e) => e.names.includes(claimedExt))?.label;
    if (named)
      return { ok: false, code: 'spoofed', reason: `the name says .${claimedExt} but the content is ${content}` };
  }
  if (!UNINFORMATIVE_MIMES.has(claimedMime) && !entry.mimes.includes(claimedMime)) {
    const named = refusedMimes[claimedMime] ?? entries.find((e) => e.mimes.includes(claimedMime))?.label;
    // Text comes with whatever text/* type the client guessed (text/x-log, text/markdown): only a type naming
    // something else contradicts it.
    const textual = text && claimedMime.startsWith('text/') && !refusedMimes[claimedMime];
    if (named && !textual)
      return {
        ok: false,
        code: 'spoofed',
        reason: `the upload says it is ${named} (${claimedMime}) but the content is ${content}`,
      };
  }
  return { ok: true, kind: publicKind(entry) };
}

/** Refused content; when the name claims something else, the message names both. */
function refuse(label: string, claimedExt: string | undefined, program: boolean): Classification {
  const verdict = program ? 'not allowed' : 'that type is not allowed';
  const named = claimedExt !== undefined ? entries.find((e) => e.names.includes(claimedExt)) : undefined;
  if (named)
    return {
      ok: false,
      code: 'spoofed',
      reason: `the name says .${claimedExt} but the content is ${label}; ${verdict}`,
    };
  return { ok: false, code: 'not_allowed', reason: `this looks like ${label}; ${verdict}` };
}

/**
 * The refusal for a name alone, before any byte arrives (the upload API can refuse `setup.exe` from the multipart
 * header); undefined when the name is fine. classifyFile applies the same rule.
 */
export function refusedName(name: string): string | undefined {
  const ext = extensionOf(name);
  const phrase = ext === undefined ? undefined : refusedNames[ext];
  return phrase && `a file named .${ext} ${phrase}; not allowed`;
}

function extensionOf(name: string): string | undefined {
  const base = name.split(/[/\\]/).at(-1) ?? '';
  const trimmed = base.replace(/[.\s]+$/u, '');
  const dot = trimmed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return trimmed
    .slice(dot + 1)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');
const hasBom = (b: Buffer) => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/**
 * Valid UTF-8 (a multi-byte character cut by the end of the sample is fine), no NUL, and at most one control
 * character in a hundred besides tab, line feed, carriage return, form feed, vertical tab and escape (ANSI colours
 * in logs).
 */
function isText(sample: Buffer): boolean {
  const bytes = sample.subarray(0, sample.length - incompleteTail(sample));
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  let controls = 0;
  for (const b of bytes) if ((b < 0x20 && ![0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b].includes(b)) || b === 0x7f) controls++;
  return controls * 100 <= bytes.length;
}

/** Bytes at the end that start a UTF-8 sequence the sample cut short (0 when it ends on a whole character). */
function incompleteTail(b: Buffer): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const byte = b[b.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

// What a browser would take for HTML or SVG (the WHATWG sniffing patterns look for these at the start).
const MARKUP =
  /^<(?:!doctype\s+html|html|head|body|script|iframe|svg|\?xml|!--|style|title|a\s|div|table|p[\s>]|br|h1|b[\s>]|font)/i;
const looksLikeMarkup = (text: string) => MARKUP.test(text) || /<svg[\s>]/i.test(text.slice(0, 1024));
