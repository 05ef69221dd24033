// Local filesystem driver: the default, so `npm start` needs nothing else. Keys map to paths under one root; a put
// writes a temporary file beside the others and renames it into place, so readers never see half a file and a
// failed put leaves nothing behind.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobNotFoundError,
  type BlobStore,
  BlobStorePermanentError,
  BlobStoreUnavailableError,
  checkKey,
  checkRange,
  describe,
} from './blob-store.ts';

/** Where puts are written before their rename: inside the root, so the rename never crosses a filesystem. */
const PARTIAL_DIR = '.partial';

/** Errors a later attempt may not meet again (a full disk can be cleared, a busy file released). */
const transientFsCodes = new Set(['ENOSPC', 'EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN', 'EIO']);

function classify(error: unknown, action: string): Error {
  if (error instanceof BlobNotFoundError || error instanceof BlobStorePermanentError) return error;
  if (error instanceof BlobStoreUnavailableError) return error;
  const code = (error as { code?: unknown }).code;
  const message = `local storage: ${action} failed (${describe(error)})`;
  return typeof code === 'string' && transientFsCodes.has(code)
    ? new BlobStoreUnavailableError(message, { cause: error })
    : new BlobStorePermanentError(message, { cause: error });
}

export class LocalBlobStore implements BlobStore {
  readonly driver = 'local' as const;
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private pathOf(key: string): string {
    checkKey(key);
    // Dot segments are the driver's own (the partial directory); refusing them keeps keys and internals apart.
    if (key.split('/').some((part) => part.startsWith('.')))
      throw new BlobStorePermanentError('a local storage key may not have segments starting with "."');
    const full = path.join(this.root, ...key.split('/'));
    // checkKey already refused "..", absolute paths and NUL; this is the belt to those braces.
    if (!full.startsWith(this.root + path.sep)) throw new BlobStorePermanentError('key escapes the storage root');
    return full;
  }

  private async partialPath(): Promise<string> {
    const dir = path.join(this.root, PARTIAL_DIR);
    await mkdir(dir, { recursive: true });
    return path.join(dir, randomUUID());
  }

  async put(key: string, body: Readable): Promise<{ bytes: number }> {
    const target = this.pathOf(key);
    let partial: string | undefined;
    try {
      partial = await this.partialPath();
      const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
      await pipeline(body, out);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(partial, target);
      return { bytes: out.bytesWritten };
    } catch (error) {
      if (partial) await rm(partial, { force: true }).catch(() => {});
      if (body.errored) throw body.errored;
      body.destroy();
      throw classify(error, 'put');
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const file = this.pathOf(key);
    if (range) checkRange(range);
    try {
      // Open first so a missing key is an error of get itself, not of the stream later.
      const handle = await open(file, 'r');
      if (range) {
        const { size } = await handle.stat();
        if (range.start >= size) {
          await handle.close();
          throw new BlobStorePermanentError(`range ${range.start}-${range.end} starts past the end (${size} bytes)`);
        }
      }
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') throw new BlobNotFoundError(`no blob at ${key}`);
      throw classify(error, 'get');
    }
  }

  async size(key: string): Promise<number | undefined> {
    const file = this.pathOf(key);
    try {
      return (await stat(file)).size;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw classify(error, 'size');
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await rm(file, { force: true });
    } catch (error) {
      throw classify(error, 'delete');
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.pathOf(fromKey);
    const to = this.pathOf(toKey);
    let partial: string | undefined;
    try {
      partial = await this.partialPath();
      await copyFile(from, partial);
      await mkdir(path.dirname(to), { recursive: true });
      await rename(partial, to);
    } catch (error) {
      if (partial) await rm(partial, { force: true }).catch(() => {});
      if ((error as { code?: unknown }).code === 'ENOENT') throw new BlobNotFoundError(`no blob at ${fromKey}`);
      throw classify(error, 'copy');
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; lastModified: Date; size: number }> {
    // A prefix is a string prefix of keys, as in S3 and Azure ("quarantine/" or "quarantine/ab"): walk from the
    // deepest directory it names completely, then filter.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
    if (dirKey !== '') this.pathOf(dirKey);
    const start = dirKey === '' ? this.root : path.join(this.root, ...dirKey.split('/'));
    const walk = async function* (
      dir: string,
      keyPrefix: string,
    ): AsyncGenerator<{ key: string; lastModified: Date; size: number }> {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT' || (error as { code?: unknown }).code === 'ENOTDIR') return;
        throw classify(error, 'list');
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        const key = keyPrefix === '' ? entry.name : `${keyPrefix}/${entry.name}`;
        if (entry.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* walk(path.join(dir, entry.name), key);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          try {
            const info = await stat(path.join(dir, entry.name));
            yield { key, lastModified: info.mtime, size: info.size };
          } catch (error) {
            // Deleted between readdir and stat: not there any more, so not listed.
            if ((error as { code?: unknown }).code !== 'ENOENT') throw classify(error, 'list');
          }
        }
      }
    };
    yield* walk(start, dirKey);
  }
}
