// A ticket's email conversation, oldest first: who wrote to whom and when, whether the mail proved where it came from
// (DKIM, SPF, DMARC and ARC verdicts, and a warning when it failed DMARC), its attachments (the ticket's files, with
// their scan) and the attachments that were refused with the reason, and for mail we send, whether it is queued,
// sent, or failed with the mail server's words. The text is shown without the quoted earlier mail, which expands on
// request. The HTML part (sanitised by the server) is shown only in a sandboxed frame that runs no script and loads
// nothing: defence in depth should the sanitiser ever miss something.
import { useId, useState } from 'react';
import { type Attachment, attachmentContentUrl, type Email, type EmailAuthResults } from '../../api.ts';
import { scanStatusText, scanStatusTone } from '../../attachments.ts';
import { sandboxedDocument, verdictsOf, verdictTone } from '../../email.ts';
import { formatBytes, formatTime } from '../../format.ts';
import { ErrorNotice } from '../Notices.tsx';

type Props = {
  emails: Email[] | undefined;
  error: string | null;
  onRetry: () => void;
  /** The ticket's files: an email's attachments are among them. */
  attachments: Attachment[] | undefined;
};

export function SandboxedHtml({ html, title }: { html: string; title: string }) {
  return <iframe className="email-html" sandbox="" srcDoc={sandboxedDocument(html)} title={title} />;
}

function Verdicts({ auth, flagged, from }: { auth: EmailAuthResults; flagged: boolean; from: string }) {
  return (
    <>
      <ul className="email-verdicts" aria-label="Sender authentication">
        {verdictsOf(auth).map((v) => (
          <li
            key={v.name}
            className={`badge verdict verdict-${verdictTone(v.verdict)}`}
            title={v.detail ? `${v.name} ${v.verdict} (${v.detail})` : undefined}
          >
            {v.name} {v.verdict}
          </li>
        ))}
      </ul>
      {flagged && (
        <p className="notice notice-warning email-flagged">
          <strong>Failed DMARC:</strong> the domain of {from} does not vouch for this message, so it may be forged.
          Check before acting on it (links, payment details, requests for access).
        </p>
      )}
    </>
  );
}

function OutboundState({ email }: { email: Email }) {
  switch (email.status) {
    case 'queued':
      return (
        <p className="email-state email-state-queued" role="status">
          <span className="badge email-badge-queued">Queued</span>{' '}
          {email.nextAttemptAt ? (
            <>
              Not sent yet{email.failureReason ? ` (${email.failureReason})` : ''}; tried again at{' '}
              <time dateTime={email.nextAttemptAt}>{formatTime(email.nextAttemptAt)}</time>.
            </>
          ) : (
            'Sending in a moment.'
          )}
        </p>
      );
    case 'sent':
      return (
        <p className="email-state">
          <span className="badge email-badge-sent">Sent</span>{' '}
          {email.sentAt && <time dateTime={email.sentAt}>{formatTime(email.sentAt)}</time>}
        </p>
      );
    case 'failed':
      return (
        <div className="notice notice-error email-state" role="alert">
          <p>
            <span className="badge email-badge-failed">Failed</span> Not delivered
            {email.failureReason ? `: ${email.failureReason}` : '.'}
          </p>
        </div>
      );
    default:
      return null;
  }
}

function EmailAttachments({ ids, attachments }: { ids: string[]; attachments: Attachment[] | undefined }) {
  if (ids.length === 0) return null;
  return (
    <ul className="email-attachments" aria-label="Attached files">
      {ids.map((id) => {
        const file = attachments?.find((a) => a.id === id);
        if (!file)
          return (
            <li key={id} className="muted">
              {attachments ? 'A file no longer on the ticket' : 'Loading the file…'}
            </li>
          );
        return (
          <li key={id} aria-label={file.fileName}>
            <span className="attachment-name">{file.fileName}</span>{' '}
            <span className="muted">{formatBytes(file.fileSize)}</span>{' '}
            <span className={`badge scan-badge scan-${scanStatusTone(file)}`}>{scanStatusText(file)}</span>{' '}
            {/* Only clean files are served; anything else would answer 409. */}
            {file.scanStatus === 'clean' && (
              <a href={attachmentContentUrl(file.id)} download={file.fileName} aria-label={`Download ${file.fileName}`}>
                Download
              </a>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function Refusals({ refusals }: { refusals: Email['attachmentRefusals'] }) {
  if (refusals.length === 0) return null;
  return (
    <ul className="email-refusals" aria-label="Refused attachments">
      {refusals.map((r, i) => (
        // The same file name may be refused twice in one email: the position tells them apart.
        // biome-ignore lint/suspicious/noArrayIndexKey: the list never reorders
        <li key={i}>
          <strong>{r.fileName}</strong>
          {r.size !== null ? ` (${formatBytes(r.size)})` : ''} was not stored: {r.reason}
        </li>
      ))}
    </ul>
  );
}

function EmailBody({ email }: { email: Email }) {
  const [quoted, setQuoted] = useState(false);
  const [formatted, setFormatted] = useState(false);
  const bodyId = useId();
  const hasQuoted = email.text.trim() !== email.displayText.trim();
  return (
    <>
      {formatted && email.html ? (
        <SandboxedHtml html={email.html} title={`Formatted email from ${email.from}`} />
      ) : (
        <div id={bodyId} className="comment-body email-text">
          {quoted ? email.text : email.displayText || <span className="muted">(no text)</span>}
        </div>
      )}
      <div className="email-body-actions">
        {hasQuoted && !formatted && (
          <button
            type="button"
            className="button-text"
            aria-expanded={quoted}
            aria-controls={bodyId}
            onClick={() => setQuoted(!quoted)}
          >
            {quoted ? 'Hide quoted text' : 'Show quoted text'}
          </button>
        )}
        {email.html && (
          <button
            type="button"
            className="button-text"
            aria-pressed={formatted}
            onClick={() => setFormatted(!formatted)}
          >
            {formatted ? 'Show as text' : 'Show formatted'}
          </button>
        )}
      </div>
    </>
  );
}

function EmailItem({ email, attachments }: { email: Email; attachments: Attachment[] | undefined }) {
  const inbound = email.direction === 'inbound';
  const when = email.sentAt ?? email.createdAt;
  return (
    <li
      className={`email email-${email.direction}${email.authFlagged ? ' email-flagged-item' : ''}`}
      aria-label={`${inbound ? 'Received' : 'Sent'} email from ${email.from}`}
    >
      <article className="email-card">
        <header className="email-header">
          <span className={`badge email-direction email-direction-${inbound ? 'in' : 'out'}`}>
            {inbound ? '↓ In' : '↑ Out'}
          </span>
          {email.kind === 'auto_reply' && <span className="badge">Acknowledgement</span>}
          {email.automated && <span className="badge">Automated sender</span>}
          <strong className="email-from">{email.from}</strong>
          <time className="email-time" dateTime={when}>
            {formatTime(when)}
          </time>
        </header>
        <dl className="email-addresses">
          <dt>To</dt>
          <dd>{email.to.join(', ') || '—'}</dd>
          {email.cc.length > 0 && (
            <>
              <dt>Cc</dt>
              <dd>{email.cc.join(', ')}</dd>
            </>
          )}
          <dt>Subject</dt>
          <dd>{email.subject || <span className="muted">(no subject)</span>}</dd>
        </dl>
        {!inbound && <OutboundState email={email} />}
        {email.auth && <Verdicts auth={email.auth} flagged={email.authFlagged} from={email.from} />}
        {!email.auth && email.authFlagged && (
          <p className="notice notice-warning email-flagged">
            <strong>Failed DMARC:</strong> this message may be forged. Check before acting on it.
          </p>
        )}
        <EmailBody email={email} />
        <EmailAttachments ids={email.attachmentIds} attachments={attachments} />
        <Refusals refusals={email.attachmentRefusals} />
      </article>
    </li>
  );
}

export function EmailThread({ emails, error, onRetry, attachments }: Props) {
  return (
    <section className="card email-thread" aria-labelledby="email-thread-title">
      <h2 id="email-thread-title">Email{emails?.length ? ` (${emails.length})` : ''}</h2>
      {error && <ErrorNotice message={error} onRetry={onRetry} />}
      {emails === undefined ? (
        !error && <p className="muted">Loading the emails…</p>
      ) : emails.length === 0 ? (
        <p className="muted">No email on this ticket yet.</p>
      ) : (
        <ol className="email-list" aria-label="Email thread">
          {emails.map((email) => (
            <EmailItem key={email.id} email={email} attachments={attachments} />
          ))}
        </ol>
      )}
    </section>
  );
}
