// How the dashboard words a file's state: the scan badge, a refusal beside the file's own row, sizes.
import assert from 'node:assert/strict';
import type { Attachment } from '../../packages/dashboard/src/api.ts';
import { refusalText, scanStatusText, tooLargeText } from '../../packages/dashboard/src/attachments.ts';
import { formatBytes } from '../../packages/dashboard/src/format.ts';

const base: Attachment = {
  id: '00000000-0000-4000-8000-000000000001',
  ticketId: '00000000-0000-4000-8000-000000000002',
  fileName: 'notes.txt',
  mimeType: 'text/plain',
  fileSize: 12,
  source: 'web',
  scanStatus: 'pending_scan',
  scanSignature: null,
  failureReason: null,
  waiting: null,
  hasThumbnail: false,
  inline: false,
  uploadedBy: { type: 'user', id: 'u1' },
  uploadedAt: '2026-01-01T10:00:00Z',
  availableAt: null,
};

describe('dashboard attachment labels', () => {
  it('words each scan status, with the signature, the reason, or why and until when it waits', () => {
    assert.equal(scanStatusText(base), 'pending scan');
    assert.equal(scanStatusText({ ...base, scanStatus: 'clean' }), 'clean');
    assert.equal(
      scanStatusText({ ...base, scanStatus: 'infected', scanSignature: 'Eicar-Test-Signature' }),
      'blocked: malware detected (Eicar-Test-Signature)',
    );
    assert.equal(
      scanStatusText({ ...base, scanStatus: 'failed', failureReason: 'the stored object is missing' }),
      'failed: the stored object is missing',
    );
    const waiting = scanStatusText({
      ...base,
      waiting: { reason: 'the virus scanner is unreachable', until: '2026-01-01T10:00:08Z' },
    });
    assert.match(waiting, /^waiting: the virus scanner is unreachable until \d{1,2}:\d{2}:\d{2}/);
    assert.equal(
      scanStatusText({ ...base, waiting: { reason: 'the store is down', until: null } }),
      'waiting: the store is down',
    );
  });

  it('drops the file name the API puts first, since the row already shows it, but keeps a name it changed', () => {
    assert.equal(
      refusalText('setup.exe: this looks like a Windows program; not allowed', 'setup.exe'),
      'this looks like a Windows program; not allowed',
    );
    assert.equal(refusalText('passwd.txt: not allowed', '../../etc/passwd.txt'), 'passwd.txt: not allowed');
  });

  it('says a file is too large the way the API does, in binary units', () => {
    assert.equal(tooLargeText(31 * 1024 * 1024, 25 * 1024 * 1024), 'too large (31 MB; the limit is 25 MB)');
    assert.equal(formatBytes(900), '900 B');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(9 * 1024 * 1024 + 1), '9 MB');
  });
});
