import assert from 'node:assert/strict';
import { contentDisposition, MAX_FILE_NAME_BYTES, sanitizeFileName } from './file-names.ts';

const display = (name: string) => sanitizeFileName(name).display;
const storage = (name: string) => sanitizeFileName(name).storage;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('file names', () => {
  it('keeps an ordinary name as it is', () => {
    assert.deepEqual(sanitizeFileName('Invoice 2026-03 (final).pdf'), {
      display: 'Invoice 2026-03 (final).pdf',
      storage: 'Invoice 2026-03 (final).pdf',
    });
  });

  it('keeps only the last path component, for either separator', () => {
    assert.deepEqual(sanitizeFileName('../../etc/passwd'), { display: 'passwd', storage: 'passwd' });
    assert.equal(display('C:\\Users\\me\\Desktop\\report.docx'), 'report.docx');
    assert.equal(display('..\\..\\windows\\win.ini'), 'win.ini');
    assert.equal(display('photos/'), 'photos');
    assert.equal(display('../..'), 'file');
    assert.equal(display('/'), 'file');
  });

  it('removes control characters (C0, DEL, C1) and line separators', () => {
    assert.equal(display('a\u0000b'), 'ab');
    assert.equal(display('line\r\nbreak\t.txt'), 'linebreak.txt');
    assert.equal(display('del\u007Fand\u0085c1\u009B.txt'), 'delandc1.txt');
    assert.equal(display('para\u2028graph\u2029.txt'), 'paragraph.txt');
  });

  it('removes bidi overrides, isolates and marks, so the real extension shows', () => {
    assert.deepEqual(sanitizeFileName('evil\u202Etxt.exe'), { display: 'eviltxt.exe', storage: 'eviltxt.exe' });
    for (const c of [
      '\u202A',
      '\u202B',
      '\u202C',
      '\u202D',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\u200E',
      '\u200F',
      '\u061C',
    ])
      assert.equal(display(`a${c}b.pdf`), 'ab.pdf', `U+${c.codePointAt(0)!.toString(16)}`);
  });

  it('removes zero-width characters', () => {
    for (const c of ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD'])
      assert.equal(display(`pay${c}pal.pdf`), 'paypal.pdf');
  });

  it('strips leading dots and spaces and trailing dots and spaces', () => {
    assert.equal(display('.htaccess'), 'htaccess');
    assert.equal(display('  ...hidden.txt'), 'hidden.txt');
    assert.equal(display('setup.exe. . '), 'setup.exe');
    assert.equal(display('report.pdf   '), 'report.pdf');
    assert.equal(display('a \u00A0\u3000 b.txt'), 'a b.txt');
  });

  it('defuses Windows reserved device names, with or without an extension', () => {
    for (const name of [
      'CON',
      'con.txt',
      'PRN.pdf',
      'aux',
      'NUL.tar.gz',
      'COM1',
      'com9.log',
      'LPT1.txt',
      'lpt9',
      'CON .txt',
      'COM¹.txt',
    ]) {
      const out = sanitizeFileName(name);
      assert.ok(out.display.startsWith('_'), `${name} -> ${out.display}`);
      assert.ok(out.storage.startsWith('_'), `${name} -> ${out.storage}`);
    }
    for (const name of ['CONSOLE.txt', 'COM10.txt', 'icon.png', 'NULL', 'com.txt']) assert.equal(display(name), name);
  });

  it('normalises to NFC', () => {
    assert.equal(display('Cafe\u0301.txt'), 'Caf\u00E9.txt');
    assert.equal(storage('Cafe\u0301.txt'), 'Cafe.txt');
  });

  it(`caps at ${MAX_FILE_NAME_BYTES} bytes of UTF-8, keeping the extension and whole characters`, () => {
    const long = sanitizeFileName(`${'a'.repeat(1000)}.pdf`);
    assert.equal(bytes(long.display), MAX_FILE_NAME_BYTES);
    assert.ok(long.display.endsWith('.pdf'));
    assert.ok(long.storage.endsWith('.pdf') && bytes(long.storage) <= MAX_FILE_NAME_BYTES);

    const multibyte = display(`${'ä'.repeat(300)}.docx`);
    assert.ok(bytes(multibyte) <= MAX_FILE_NAME_BYTES && multibyte.endsWith('.docx'));
    assert.ok(!multibyte.includes('\uFFFD'));

    const emoji = display(`${'👨‍👩‍👧'.repeat(100)}.png`);
    assert.ok(bytes(emoji) <= MAX_FILE_NAME_BYTES && emoji.endsWith('.png'));
    // No lone surrogate left by a cut in the middle of a character.
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(emoji));

    // A very long "extension" is part of the name and is cut like it.
    const noExt = display(`notes.${'x'.repeat(500)}`);
    assert.ok(bytes(noExt) <= MAX_FILE_NAME_BYTES);
  });

  it('keeps emoji and other scripts for display, and gives an ASCII storage name', () => {
    assert.deepEqual(sanitizeFileName('📸 holiday.jpg'), { display: '📸 holiday.jpg', storage: '_ holiday.jpg' });
    assert.deepEqual(sanitizeFileName('отчёт.pdf'), { display: 'отчёт.pdf', storage: 'file.pdf' });
    assert.deepEqual(sanitizeFileName('報告書 2026.xlsx'), { display: '報告書 2026.xlsx', storage: '_ 2026.xlsx' });
    assert.equal(storage('naïve résumé.docx'), 'naive resume.docx');
    assert.equal(storage('quote"back\\slash%25;x.txt'), 'slash_25_x.txt');
    assert.equal(storage('a"b;c.txt'), 'a_b_c.txt');
  });

  it('is never empty', () => {
    for (const name of ['', ' ', '.', '..', '...', '\u202E', '\u0000', '/', '\\', ' . ']) {
      assert.equal(display(name), 'file', JSON.stringify(name));
      assert.equal(storage(name), 'file', JSON.stringify(name));
    }
    assert.equal(storage('😀'), 'file');
    assert.equal(display('😀'), '😀');
  });

  it('is idempotent', () => {
    for (const name of [
      '../../etc/passwd',
      'evil\u202Etxt.exe',
      'CON.txt',
      'a\u0000b',
      '📸 holiday.jpg',
      `${'é'.repeat(400)}.pdf`,
    ]) {
      const once = sanitizeFileName(name);
      assert.deepEqual(sanitizeFileName(once.display).display, once.display);
      assert.deepEqual(sanitizeFileName(once.storage).storage, once.storage);
    }
  });

  describe('Content-Disposition', () => {
    it('gives an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 5987)', () => {
      assert.equal(
        contentDisposition('attachment', 'naïve résumé.pdf'),
        `attachment; filename="naive resume.pdf"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf`,
      );
      assert.equal(
        contentDisposition('inline', "it's (1)*.png"),
        `inline; filename="it_s (1)_.png"; filename*=UTF-8''it%27s%20%281%29%2A.png`,
      );
    });

    it('sanitises whatever it is given, so nothing can break out of the header', () => {
      const header = contentDisposition('attachment', 'x"; filename=evil.exe\r\nSet-Cookie: a=b\u202E.pdf');
      assert.ok(!/[\r\n]/.test(header));
      // Exactly the two quotes around the ASCII fallback.
      assert.equal(header.split('"').length, 3);
      assert.match(header, /^attachment; filename="[^"]*"; filename\*=UTF-8''[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
    });
  });
});
