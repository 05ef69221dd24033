// The ticket's files: a thumbnail for images (opening the full image in a lightbox), an icon and the size for the
// rest, where each stands in its virus scan, a download link once it is clean, and delete for agents and admins.
import { useEffect, useRef, useState } from 'react';
import {
  type Attachment,
  attachmentContentUrl,
  attachmentThumbnailUrl,
  deleteAttachment,
  describeError,
} from '../../api.ts';
import { scanStatusText, scanStatusTone } from '../../attachments.ts';
import { formatBytes, formatTime } from '../../format.ts';
import { ErrorNotice } from '../Notices.tsx';

type Props = {
  attachments: Attachment[] | undefined;
  error: string | null;
  canDelete: boolean;
  onDeleted: () => void;
  onRetry: () => void;
};

export function AttachmentGallery({ attachments, error, canDelete, onDeleted, onRetry }: Props) {
  const [viewing, setViewing] = useState<Attachment | null>(null);
  return (
    <section className="card attachments" aria-labelledby="attachments-title">
      <h2 id="attachments-title">Attachments{attachments?.length ? ` (${attachments.length})` : ''}</h2>
      {error && <ErrorNotice message={error} onRetry={onRetry} />}
      {attachments === undefined ? (
        !error && <p className="muted">Loading the attachments…</p>
      ) : attachments.length === 0 ? (
        <p className="muted">No files attached.</p>
      ) : (
        <ul className="attachment-list" aria-label="Attachments">
          {attachments.map((attachment) => (
            <AttachmentItem
              key={attachment.id}
              attachment={attachment}
              canDelete={canDelete}
              onView={() => setViewing(attachment)}
              onDeleted={onDeleted}
            />
          ))}
        </ul>
      )}
      {viewing && <Lightbox attachment={viewing} onClose={() => setViewing(null)} />}
    </section>
  );
}

function AttachmentItem({
  attachment,
  canDelete,
  onView,
  onDeleted,
}: {
  attachment: Attachment;
  canDelete: boolean;
  onView: () => void;
  onDeleted: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const clean = attachment.scanStatus === 'clean';
  const name = attachment.fileName;

  async function remove() {
    setDeleting(true);
    setDeleteError(null);
    try {
      await deleteAttachment(attachment.id);
      onDeleted();
    } catch (e) {
      setDeleteError(describeError(e));
      setDeleting(false);
    }
  }

  return (
    <li className="attachment-item" aria-label={name}>
      <div className="attachment-preview">
        {clean && attachment.hasThumbnail ? (
          attachment.inline ? (
            <button type="button" className="thumbnail-button" onClick={onView} aria-label={`View ${name}`}>
              <img src={attachmentThumbnailUrl(attachment.id)} alt={name} loading="lazy" />
            </button>
          ) : (
            <img src={attachmentThumbnailUrl(attachment.id)} alt={name} loading="lazy" />
          )
        ) : (
          <FileIcon attachment={attachment} />
        )}
      </div>
      <div className="attachment-info">
        <span className="attachment-name" title={name}>
          {name}
        </span>
        <span className="muted">
          {formatBytes(attachment.fileSize)} ·{' '}
          <time dateTime={attachment.uploadedAt}>{formatTime(attachment.uploadedAt)}</time>
        </span>
        <span className={`badge scan-badge scan-${scanStatusTone(attachment)}`}>{scanStatusText(attachment)}</span>
        <div className="attachment-actions">
          {/* Only clean files are served; anything else would answer 409. */}
          {clean && (
            <a href={attachmentContentUrl(attachment.id)} download={name} aria-label={`Download ${name}`}>
              Download
            </a>
          )}
          {canDelete &&
            (confirming ? (
              <span className="confirm-delete">
                <span>Delete?</span>
                <button type="button" className="button-danger" disabled={deleting} onClick={() => void remove()}>
                  {deleting ? 'Deleting…' : 'Delete'}
                </button>
                <button type="button" className="button-secondary" onClick={() => setConfirming(false)}>
                  Keep
                </button>
              </span>
            ) : (
              <button
                type="button"
                className="button-link"
                onClick={() => setConfirming(true)}
                aria-label={`Delete ${name}`}
              >
                Delete
              </button>
            ))}
        </div>
        {deleteError && <ErrorNotice message={deleteError} />}
      </div>
    </li>
  );
}

/** A document shape with the file's extension on it, for everything without a thumbnail. */
function FileIcon({ attachment }: { attachment: Attachment }) {
  const extension = /\.([a-z0-9]{1,5})$/i.exec(attachment.fileName)?.[1]?.toUpperCase() ?? 'FILE';
  const tone = scanStatusTone(attachment);
  return (
    <svg className={`file-icon file-icon-${tone}`} viewBox="0 0 48 60" role="img" aria-label={`${extension} file`}>
      <path d="M4 2h28l12 12v44H4z" fill="#fff" stroke="currentColor" strokeWidth="2.5" strokeLinejoin="round" />
      <path d="M32 2v12h12" fill="none" stroke="currentColor" strokeWidth="2.5" strokeLinejoin="round" />
      <text
        x="24"
        y="44"
        textAnchor="middle"
        fontSize={extension.length > 3 ? 9 : 11}
        fontWeight="700"
        fill="currentColor"
      >
        {extension}
      </text>
    </svg>
  );
}

/** The full image over the page: Escape, the close button or a click outside the image closes it. */
function Lightbox({ attachment, onClose }: { attachment: Attachment; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape closes a modal dialog natively (the close event)
    <dialog
      ref={dialog}
      className="lightbox"
      aria-label={attachment.fileName}
      onClose={onClose}
      onClick={(event) => {
        if (event.target === dialog.current) dialog.current?.close();
      }}
    >
      <figure>
        <img src={attachmentContentUrl(attachment.id)} alt={attachment.fileName} />
        <figcaption>
          <span>{attachment.fileName}</span>
          <a href={attachmentContentUrl(attachment.id)} download={attachment.fileName}>
            Download
          </a>
          <button type="button" className="button-secondary" onClick={() => dialog.current?.close()}>
            Close
          </button>
        </figcaption>
      </figure>
    </dialog>
  );
}
