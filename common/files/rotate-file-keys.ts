// Master key rotation for attachments, the counterpart of domain/integrations/rotate-credential-keys.ts: every file
// data key not yet wrapped by the ring's active master key is re-wrapped with it. Stored objects are never read or
// rewritten (the data keys do not change), so rotating costs one small row update per attachment whatever the
// files' sizes. The storage of the rows is the caller's: it lists them and saves each new envelope with a
// compare-and-set on the old one, so a row changed meanwhile (re-uploaded, deleted) is left to whoever changed it.
import type { KeyRing } from '../config.ts';
import {
  FileCryptoError,
  type FileKeyEnvelope,
  fileKeyContext,
  isFileKeyCurrent,
  rewrapFileKey,
} from './sealed-stream.ts';

export type FileKeyRow = {
  id: string;
  organizationId: string;
  envelope: FileKeyEnvelope;
  /** The context the envelope was sealed with, when not fileKeyContext(organizationId, id) (a thumbnail's key). */
  context?: string;
};

export type FileKeyRotationReport = {
  scanned: number;
  rewrapped: number;
  /** Already wrapped with the active key (what every row reports on a second run). */
  alreadyCurrent: number;
  /** The compare-and-set found the row changed since it was listed. */
  changedMeanwhile: number;
  /** Could not be opened: its key id is missing from the ring, or the envelope is damaged. */
  failed: Array<{ id: string; organizationId: string; reason: string }>;
};

/**
 * Re-wraps each listed row's data key with the active master key. `save(row, rewrapped)` writes the new envelope
 * only if the row still holds `row.envelope`, and says whether it did.
 */
export async function rotateFileKeys(
  keys: KeyRing,
  rows: Iterable<FileKeyRow> | AsyncIterable<FileKeyRow>,
  save: (row: FileKeyRow, rewrapped: FileKeyEnvelope) => Promise<boolean>,
): Promise<FileKeyRotationReport> {
  const report: FileKeyRotationReport = {
    scanned: 0,
    rewrapped: 0,
    alreadyCurrent: 0,
    changedMeanwhile: 0,
    failed: [],
  };
  for await (const row of rows) {
    report.scanned++;
    if (isFileKeyCurrent(keys, row.envelope)) {
      report.alreadyCurrent++;
      continue;
    }
    let rewrapped: FileKeyEnvelope;
    try {
      rewrapped = rewrapFileKey(keys, row.envelope, row.context ?? fileKeyContext(row.organizationId, row.id));
    } catch (error) {
      if (!(error instanceof FileCryptoError)) throw error;
      report.failed.push({ id: row.id, organizationId: row.organizationId, reason: error.message });
      continue;
    }
    if (await save(row, rewrapped)) report.rewrapped++;
    else report.changedMeanwhile++;
  }
  return report;
}
