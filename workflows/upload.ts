// The upload pipeline of one attachment (`upload/<attachmentId>`), started by the relay when the file's
// `attachment.uploaded` event is dispatched. The file is already in storage, encrypted, and nothing serves it:
//
//   scan (clamd) ─ infected ─→ delete it, keep the signature, tell the ticket (attachment.blocked)
//        │ clean    ─ scanned as it was uploaded, no thumbnail due ─→ made available by the scan step itself
//   thumbnail (raster images; a refused image just has none)
//        │
//   available (attachment.available)
//
// The scan fails closed: while clamd (or the store) is unreachable the file stays pending_scan, the activity records
// why and until when on the row, and retries without end until it is back. A permanent failure (the store refuses
// the object, the ciphertext does not open) marks the file failed with its reason. Every step is idempotent and
// checks the row's state, so a worker killed mid-pipeline makes the file available exactly once.
import { ActivityFailure, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { FilePipelineActivities } from '../activities/files/pipeline.ts';
import type { UploadInput, UploadOutcome } from './upload-contract.ts';

/** Unreachable services are waited out, never given up on: the file must end scanned, not lost. */
const patient = proxyActivities<FilePipelineActivities>({
  startToCloseTimeout: '5 minutes',
  // The steps heartbeat while they stream: a worker that dies mid-scan is noticed in seconds, not minutes.
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['AttachmentPermanentError'],
  },
});

/** A thumbnail is a nicety: a few tries, then the file is available without one. */
const thumbnails = proxyActivities<FilePipelineActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: ['AttachmentPermanentError'] },
});

export async function uploadWorkflow(input: UploadInput): Promise<UploadOutcome> {
  try {
    // Runs from before the patch never let the scan step make the file available (their histories schedule
    // markAvailable after every clean scan).
    const scan = await patient.scanAttachment({ ...input, settle: patched('upload-scan-settles') });
    if (scan.verdict === 'gone') return 'deleted';
    if (scan.verdict === 'infected') {
      await patient.blockAttachment({ ...input, signature: scan.signature });
      return 'infected';
    }
    // Scanned as it was uploaded, with no thumbnail to make: the scan step made it available already.
    if (scan.settled) return scan.settled;
    if (input.raster) {
      try {
        await thumbnails.makeThumbnail(input);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
      }
    }
    return await patient.markAvailable(input);
  } catch (err) {
    const reason = permanentReason(err);
    if (reason === undefined) throw err;
    await patient.failAttachment({ ...input, reason });
    return 'failed';
  }
}

/** The words of a permanent activity failure, for the row and the ticket; undefined for anything else. */
function permanentReason(err: unknown): string | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === 'AttachmentPermanentError') return cause.message;
  return undefined;
}
