// Attaching files to a ticket: drop them on the zone, paste them (a screenshot from the clipboard), or choose them.
// Each file goes in its own request with its own progress bar and its own error, so one refused file does not take
// the others with it. Once uploaded, a file's row follows its virus scan from the ticket's attachment list.
import { type DragEvent, useEffect, useId, useRef, useState } from 'react';
import { ApiError, type Attachment, type AttachmentLimits, describeError, getFileLimits } from '../../api.ts';
import { refusalText, scanStatusText, scanStatusTone, tooLargeText } from '../../attachments.ts';
import { formatBytes } from '../../format.ts';
import { UploadCancelled, UploadInterrupted, uploadAttachment } from '../../uploads.ts';

type Upload = {
  key: number;
  name: string;
  size: number;
  sent: number;
  state: 'uploading' | 'uploaded' | 'refused' | 'cancelled';
  message: string | null;
  attachmentId: string | null;
  controller: AbortController;
};

type Props = {
  ticketId: string;
  /** The ticket's attachments as the gallery has them: an uploaded file's row shows its scan from there. */
  attachments: Attachment[] | undefined;
  /** After each accepted file, so the list (and the timeline) show it. */
  onUploaded: (attachment: Attachment) => void;
};

let nextKey = 1;

function uploadError(error: unknown, fileName: string): string {
  if (error instanceof UploadInterrupted) return 'the connection was lost; try again';
  if (error instanceof ApiError) return refusalText(error.message, fileName);
  return describeError(error);
}

/** Files a paste or a drop carries; text or a link from the clipboard is not a file. */
function filesOf(list: FileList | null | undefined): File[] {
  return list ? Array.from(list) : [];
}

export function FileUploadZone({ ticketId, attachments, onUploaded }: Props) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [limits, setLimits] = useState<AttachmentLimits | null>(null);
  const [limitsError, setLimitsError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const hintId = useId();

  useEffect(() => {
    getFileLimits().then(setLimits, (e: unknown) => setLimitsError(describeError(e)));
  }, []);

  // Uploads still running when the page goes away are cancelled rather than left to finish unseen.
  const running = useRef(uploads);
  running.current = uploads;
  useEffect(
    () => () => {
      for (const upload of running.current) upload.controller.abort();
    },
    [],
  );

  const update = (key: number, change: Partial<Upload>) =>
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...change } : u)));

  async function start(files: File[]) {
    if (files.length === 0) return;
    // Read again for each batch: an admin may have changed the limit since the page loaded.
    const current = await getFileLimits().then(
      (fresh) => {
        setLimits(fresh);
        setLimitsError(null);
        return fresh;
      },
      () => limits,
    );
    for (const file of files) {
      const upload: Upload = {
        key: nextKey++,
        name: file.name || 'pasted file',
        size: file.size,
        sent: 0,
        state: 'uploading',
        message: null,
        attachmentId: null,
        controller: new AbortController(),
      };
      // Said before a byte is sent: the server would refuse it only after reading up to the limit.
      if (current && file.size > current.maxFileBytes) {
        setUploads((list) => [
          ...list,
          { ...upload, state: 'refused', message: tooLargeText(file.size, current.maxFileBytes) },
        ]);
        continue;
      }
      setUploads((list) => [...list, upload]);
      uploadAttachment(ticketId, file, (sent) => update(upload.key, { sent }), upload.controller.signal).then(
        (attachment) => {
          update(upload.key, { state: 'uploaded', sent: file.size, attachmentId: attachment.id });
          onUploaded(attachment);
        },
        (error: unknown) =>
          update(
            upload.key,
            error instanceof UploadCancelled
              ? { state: 'cancelled', message: 'cancelled' }
              : { state: 'refused', message: uploadError(error, upload.name) },
          ),
      );
    }
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    void start(filesOf(event.dataTransfer?.files));
  }

  function onDragOver(event: DragEvent) {
    // Only file drags are accepted; dragging text around the page is left alone.
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  }

  // A paste anywhere on the page that carries files attaches them; a paste of text goes where it always went.
  const startRef = useRef(start);
  startRef.current = start;
  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const files = filesOf(event.clipboardData?.files);
      if (files.length === 0) return;
      event.preventDefault();
      void startRef.current(files);
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, []);

  const finished = uploads.filter((u) => u.state !== 'uploading');

  return (
    <section className="card upload-zone-card" aria-labelledby={`${hintId}-title`}>
      <h2 id={`${hintId}-title`}>Attach files</h2>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop target; the button inside is the keyboard way in */}
      <div
        className={`upload-zone${dragging ? ' dragging' : ''}`}
        data-testid="file-upload-zone"
        onDragOver={onDragOver}
        onDragEnter={onDragOver}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>
          Drop files here, paste them, or{' '}
          <button type="button" className="button-secondary" onClick={() => picker.current?.click()}>
            choose files
          </button>
        </p>
        <input
          ref={picker}
          id={`${hintId}-input`}
          type="file"
          multiple
          hidden
          aria-label="Choose files to attach"
          onChange={(event) => {
            void start(filesOf(event.target.files));
            // The same file chosen again is a new upload.
            event.target.value = '';
          }}
        />
        <p id={hintId} className="hint">
          {limits
            ? `Up to ${formatBytes(limits.maxFileBytes)} per file. Each file is scanned for viruses before anyone can download it.`
            : limitsError
              ? `The size limit could not be read: ${limitsError}`
              : 'Reading the size limit…'}
        </p>
      </div>
      {uploads.length > 0 && (
        <ul className="upload-list" aria-label="Uploads">
          {uploads.map((upload) => (
            <UploadRow
              key={upload.key}
              upload={upload}
              attachment={attachments?.find((a) => a.id === upload.attachmentId)}
            />
          ))}
        </ul>
      )}
      {finished.length > 0 && (
        <button
          type="button"
          className="button-secondary"
          onClick={() => setUploads((list) => list.filter((u) => u.state === 'uploading'))}
        >
          Clear finished
        </button>
      )}
    </section>
  );
}

function UploadRow({ upload, attachment }: { upload: Upload; attachment: Attachment | undefined }) {
  const percent = upload.size > 0 ? Math.round((upload.sent / upload.size) * 100) : 100;
  let status: { text: string; tone: string };
  switch (upload.state) {
    case 'uploading':
      status = { text: `${percent}%`, tone: 'pending' };
      break;
    case 'uploaded':
      // Deleted since, or not yet in the list: the upload itself went through.
      status = attachment
        ? { text: scanStatusText(attachment), tone: scanStatusTone(attachment) }
        : { text: 'uploaded', tone: 'clean' };
      break;
    case 'cancelled':
      status = { text: 'cancelled', tone: 'failed' };
      break;
    default:
      status = { text: upload.message ?? 'refused', tone: 'failed' };
  }
  return (
    <li className={`upload-row upload-${upload.state}`} aria-label={upload.name}>
      <span className="upload-name">{upload.name}</span>
      <span className="muted">{formatBytes(upload.size)}</span>
      {upload.state === 'uploading' ? (
        <>
          <progress max={upload.size || 1} value={upload.sent} aria-label={`Uploading ${upload.name}`} />
          <span className="muted upload-percent">{status.text}</span>
          <button type="button" className="button-secondary" onClick={() => upload.controller.abort()}>
            Cancel
          </button>
        </>
      ) : (
        <span className={`upload-status scan-${status.tone}`} role={upload.state === 'refused' ? 'alert' : undefined}>
          {status.text}
        </span>
      )}
    </li>
  );
}
