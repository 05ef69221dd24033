// Reading a stored file back: the plaintext of the whole file or of one byte range, decrypted as it streams, only
// the segments the range needs fetched from the store. A tampered or truncated object fails before its first wrong
// byte leaves: every segment's tag is checked before its plaintext is passed on, and the first chunk is awaited
// before the caller writes any header, so a small tampered file gets a clean error instead of a cut-off body.
import type { Readable } from 'node:stream';
import type { KeyRing } from '../../common/config.ts';
import { RequestError } from '../../common/errors.ts';
import { ciphertextRange, decryptStream, FileCryptoError, openFileKey } from '../../common/files/sealed-stream.ts';
import type { AttachmentRow } from '../../domain/files/attachments.ts';
import { attachmentContext, thumbnailContext } from './intake.ts';
import type { StoreDirectory } from './stores.ts';

export type Which = 'content' | 'thumbnail';

export type OpenedDownload = {
  body: Readable;
  /** The whole file's size. */
  size: number;
  /** The inclusive range served, when the request asked for one. */
  range?: { start: number; end: number };
  mimeType: string;
};

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; one range only (several answer the whole file, as RFC 9110 allows). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'whole' | 'unsatisfiable' {
  if (!header) return 'whole';
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return 'whole';
  const [, first, last] = match;
  if (first === '' && last === '') return 'whole';
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

export async function openDownload(
  deps: { credentialKeys: KeyRing; stores: StoreDirectory },
  file: AttachmentRow,
  which: Which,
  range: { start: number; end: number } | undefined,
): Promise<OpenedDownload> {
  if (file.scanStatus !== 'clean') throw notAvailable(file);
  const envelope = which === 'content' ? file.keyEnvelope : file.thumbnailEnvelope;
  const key = which === 'content' ? file.storageKey : file.thumbnailKey;
  const size = which === 'content' ? file.fileSize : file.thumbnailSize;
  if (!envelope || !key || size === null) throw new RequestError(404, 'not_found', `${which} not found`);
  const context =
    which === 'content'
      ? attachmentContext(file.organizationId, file.id)
      : thumbnailContext(file.organizationId, file.id);
  const store = await deps.stores.of(file);
  const dataKey = openFileKey(deps.credentialKeys, envelope, context);
  const sealed = range ? await store.get(key, cipherBytes(range, size, envelope.segmentSize)) : await store.get(key);
  const decrypt = decryptStream(dataKey, envelope, context, { plainSize: size, ...(range ? { range } : {}) });
  // The store's stream (a file handle, a socket) goes with the decrypter, however it ends.
  decrypt.once('close', () => {
    dataKey.fill(0);
    sealed.destroy();
  });
  sealed.once('error', (error: Error) => decrypt.destroy(error));
  sealed.pipe(decrypt);
  try {
    await firstChunk(decrypt);
  } catch (error) {
    decrypt.destroy();
    if (error instanceof FileCryptoError)
      throw new RequestError(
        500,
        'integrity_check_failed',
        'the stored file failed its integrity check; it was not served',
      );
    throw error;
  }
  return {
    body: decrypt,
    size,
    ...(range ? { range } : {}),
    mimeType: which === 'content' ? file.mimeType : (file.thumbnailMime ?? 'image/jpeg'),
  };
}

function cipherBytes(range: { start: number; end: number }, size: number, segmentSize: number) {
  const { start, end } = ciphertextRange(range.start, range.end, size, segmentSize);
  return { start, end };
}

function notAvailable(file: AttachmentRow): RequestError {
  switch (file.scanStatus) {
    case 'pending_scan':
      return new RequestError(409, 'not_available', 'the file is still being scanned for viruses');
    case 'infected':
      return new RequestError(
        409,
        'blocked',
        `the file was blocked: malware detected (${file.scanSignature ?? 'unknown'}); it is never served`,
      );
    default:
      return new RequestError(409, 'not_available', `the file could not be stored: ${file.failureReason ?? 'failed'}`);
  }
}

/** Resolves once the stream has a chunk ready (or has ended); rejects if it fails first. Leaves the chunk in it. */
function firstChunk(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onReadable = () => done();
    const onEnd = () => done();
    const onError = (error: Error) => done(error);
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
