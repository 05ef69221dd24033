// Uploaded file names are attacker-chosen text that ends up in the dashboard, in e-mails and Slack messages, in
// Content-Disposition headers and on the recipient's disk. sanitizeFileName keeps what is safe to show and drops what
// can mislead or break something:
// - path components (`../../etc/passwd`, `C:\Users\x\a.txt`): only the last component is a file name;
// - control characters (C0, DEL, C1), line and paragraph separators: they break headers and logs;
// - bidi overrides, embeddings, isolates and marks (`invoice\u202Etxt.exe` shows as `invoiceexe.txt`) and
//   zero-width characters: they make a name display as something it is not;
// - leading dots and spaces (hidden files, `.htaccess`), trailing dots and spaces (Windows drops them, so `a.exe.`
//   becomes `a.exe`);
// - Windows reserved device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension): saving `CON.txt` on
//   Windows opens the console device;
// - length: at most 200 bytes of UTF-8, cut in the stem so the extension survives, and never mid-character.
// The name is NFC-normalised first, so visually equal names compare equal. The sanitised name is never empty.

export const MAX_FILE_NAME_BYTES = 200;
const FALLBACK = 'file';
// An extension longer than this is part of the name (`notes.from-the-meeting-with-acme`), not a type to keep.
const MAX_EXTENSION_CHARS = 16;

// \p{Cc}: C0, DEL and C1 controls. \p{Cf} is every invisible "format" character: the bidi controls U+200E/F,
// U+202A-202E, U+2066-2069 and U+061C, the zero-width U+200B-200D, U+2060 and U+FEFF, the soft hyphen, the
// interlinear annotation and tag characters. \p{Zl}\p{Zp}: U+2028/U+2029 line and paragraph separators.
// Removing ZWJ/ZWNJ splits joined emoji (a family becomes its members) and changes the shaping of some scripts
// (Persian, Indic); the name stays readable, and nothing invisible survives.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
// Other spaces (no-break, ideographic, ...) read as a space: one ordinary space, runs collapsed.
const SPACES = /[\s\p{Zs}]+/gu;
const RESERVED = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])$/i;

export type SanitizedFileName = {
  /** For display and for the UTF-8 name of a download (filename*): the original's letters, spaces and punctuation. */
  display: string;
  /** ASCII letters, digits, space and `._-()`, safe in a quoted Content-Disposition filename and on any disk. */
  storage: string;
};

export function sanitizeFileName(original: string): SanitizedFileName {
  const display = finish(lastComponent(String(original ?? '').normalize('NFC')).replace(INVISIBLE, ''));
  // The ASCII form transliterates what decomposes to ASCII (é -> e) and replaces the rest.
  const ascii = display
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z0-9 ._()-]+/g, '_')
    .replace(/_+/g, '_');
  let storage = finish(ascii);
  // A name that was all non-Latin script (`отчёт.pdf` -> `_.pdf`) keeps its extension with a readable stem.
  const { stem, ext } = splitExtension(storage);
  if (!/[A-Za-z0-9]/.test(stem)) storage = finish(`${FALLBACK}${ext}`);
  return { display, storage };
}

/**
 * A Content-Disposition header value (RFC 6266) carrying both the ASCII fallback (`filename="..."`) and the exact
 * UTF-8 name (`filename*=UTF-8''...`, RFC 5987/8187); the name is sanitised here whatever the caller passes.
 */
export function contentDisposition(kind: 'attachment' | 'inline', name: string): string {
  const { display, storage } = sanitizeFileName(name);
  return `${kind}; filename="${storage}"; filename*=UTF-8''${encodeRfc5987(display)}`;
}

/** Percent-encodes everything but RFC 5987 attr-chars (encodeURIComponent leaves ' ( ) * as they are). */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

function lastComponent(name: string): string {
  const parts = name.split(/[/\\]/).filter((part) => part.trim() !== '' && !/^\.+$/.test(part.trim()));
  return parts.at(-1) ?? '';
}

/** Spaces, edge dots and spaces, reserved names and length: the rules that apply to both forms. */
function finish(name: string): string {
  let out = trimEdges(name.replace(SPACES, ' '));
  out = capLength(out);
  // Windows ignores trailing spaces and everything from the first dot when matching device names.
  const device = out.split('.')[0]!.trimEnd();
  if (RESERVED.test(device)) out = `_${out}`;
  return out === '' ? FALLBACK : out;
}

const trimEdges = (name: string) => name.replace(/^[.\s]+/u, '').replace(/[.\s]+$/u, '');

function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { stem: name, ext: '' };
  const ext = name.slice(dot);
  if (ext.length - 1 > MAX_EXTENSION_CHARS || /\s/.test(ext)) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext };
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function capLength(name: string): string {
  if (utf8Bytes(name) <= MAX_FILE_NAME_BYTES) return name;
  const { stem, ext } = splitExtension(name);
  const room = MAX_FILE_NAME_BYTES - utf8Bytes(ext);
  // Cut between graphemes, so an emoji sequence or a letter with its accents is kept whole or dropped whole.
  let kept = '';
  let used = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(stem)) {
    const bytes = utf8Bytes(segment);
    if (used + bytes > room) break;
    kept += segment;
    used += bytes;
  }
  return trimEdges(kept) + ext;
}
