// Writing an email from a ticket: recipients (the requester to begin with) and CC, an optional subject (the thread's,
// with the ticket reference, when left empty), rich text (bold, italic, links, lists) whose plain-text version is
// sent as the text alternative, files through FileUploadZone (uploaded to the ticket, then sent by id), a preview of
// the mailbox's template, and Send. One composed email has one idempotency key, so a double click or a retried
// request after a lost answer sends it once.
import { type ClipboardEvent, type FormEvent, useEffect, useId, useRef, useState } from 'react';
import {
  ApiError,
  type Attachment,
  type ComposeEmail,
  describeError,
  type Email,
  type EmailPreview,
  type ErrorDetail,
  type Integration,
  previewTicketEmail,
  sendTicketEmail,
  type Ticket,
} from '../../api.ts';
import { scanStatusText, scanStatusTone } from '../../attachments.ts';
import { type FieldErrors, fieldErrorsFrom, linkAddress, parseAddressList, unclaimedErrors } from '../../email.ts';
import { ErrorNotice, FieldError, SuccessNotice } from '../Notices.tsx';
import { FileUploadZone } from '../tickets/FileUploadZone.tsx';
import { SandboxedHtml } from './EmailThread.tsx';

type Props = {
  ticket: Ticket;
  /** Active mailboxes that send; with more than one, the agent chooses. */
  mailboxes: Integration[];
  /** The mailbox of the thread's latest mail: replies go out through it unless the agent chooses another. */
  threadMailboxId: string | null;
  attachments: Attachment[] | undefined;
  onAttachmentsChanged: () => void;
  onSent: (email: Email) => void;
  onClose: () => void;
};

/** A fresh key for one composed email; getRandomValues works outside secure contexts too (unlike randomUUID). */
function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `compose-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The plain-text version of the editor's content: paragraphs and line breaks as lines, list items with "- " or their
 * number, and a link's address after its words.
 */
export function plainTextOf(root: Node): string {
  let out = '';
  const newline = () => {
    if (out && !out.endsWith('\n')) out += '\n';
  };
  const visit = (node: Node, depth: number) => {
    if (node.nodeType === Node.TEXT_NODE) {
      out += (node.textContent ?? '').replace(/[\s\u00a0]+/g, ' ');
      return;
    }
    if (!(node instanceof HTMLElement)) return;
    const tag = node.tagName;
    if (tag === 'BR') {
      out += '\n';
      return;
    }
    if (tag === 'LI') {
      newline();
      const parent = node.parentElement;
      const number = parent ? [...parent.children].indexOf(node) + 1 : 1;
      out += `${'  '.repeat(Math.max(0, depth - 1))}${parent?.tagName === 'OL' ? `${number}. ` : '- '}`;
      for (const child of node.childNodes) visit(child, depth);
      newline();
      return;
    }
    if (tag === 'UL' || tag === 'OL') {
      newline();
      for (const child of node.childNodes) visit(child, depth + 1);
      newline();
      return;
    }
    const block = tag === 'P' || tag === 'DIV' || tag === 'BLOCKQUOTE' || /^H[1-6]$/.test(tag);
    if (block) newline();
    for (const child of node.childNodes) visit(child, depth);
    if (tag === 'A') {
      const href = (node.getAttribute('href') ?? '').replace(/^mailto:/, '');
      if (href && href !== node.textContent?.trim()) out += ` (${href})`;
    }
    if (block) newline();
  };
  for (const child of root.childNodes) visit(child, 0);
  return out
    .split('\n')
    .map((line) => line.replace(/ +$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** "to.1: Invalid email" → "bob@: Invalid email": an address's error names the address. */
function addressErrors(errors: FieldErrors, field: 'to' | 'cc', addresses: string[]): string | undefined {
  const messages = Object.entries(errors)
    .filter(([name]) => name === field || name.startsWith(`${field}.`))
    .map(([name, message]) => {
      const index = Number(name.split('.')[1]);
      return Number.isInteger(index) && addresses[index] !== undefined ? `${addresses[index]}: ${message}` : message;
    });
  return messages.length > 0 ? messages.join(' ') : undefined;
}

type Format = 'rich' | 'plain';

export function EmailComposer({
  ticket,
  mailboxes,
  threadMailboxId,
  attachments,
  onAttachmentsChanged,
  onSent,
  onClose,
}: Props) {
  const id = useId();
  const editor = useRef<HTMLDivElement>(null);
  const linkField = useRef<HTMLInputElement>(null);
  const savedRange = useRef<Range | null>(null);
  const [to, setTo] = useState(ticket.requester?.email ?? '');
  const [cc, setCc] = useState('');
  const [subject, setSubject] = useState('');
  const [mailboxId, setMailboxId] = useState(
    mailboxes.find((m) => m.id === threadMailboxId)?.id ?? mailboxes[0]?.id ?? '',
  );
  const [format, setFormat] = useState<Format>('rich');
  const [plainText, setPlainText] = useState('');
  const [richEmpty, setRichEmpty] = useState(true);
  const [attachmentIds, setAttachmentIds] = useState<string[]>([]);
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const [linking, setLinking] = useState(false);
  const [linkUrl, setLinkUrl] = useState('');
  const [linkError, setLinkError] = useState<string | null>(null);
  const [preview, setPreview] = useState<EmailPreview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [sending, setSending] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [requestError, setRequestError] = useState<{ message: string; details: ErrorDetail[] } | null>(null);
  const [sent, setSent] = useState<string | null>(null);

  useEffect(() => {
    if (linking) linkField.current?.focus();
  }, [linking]);

  const toList = parseAddressList(to);
  const ccList = parseAddressList(cc);

  /** Anything the agent changes makes the preview and the last answer out of date. */
  function changed(...fields: string[]) {
    setPreview(null);
    setSent(null);
    if (fields.length > 0)
      setErrors((e) =>
        Object.fromEntries(
          Object.entries(e).filter(([k]) => !fields.some((name) => k === name || k.startsWith(`${name}.`))),
        ),
      );
  }

  /** The editor's selection, if it is inside the editor. */
  function selectionInEditor(): Range | null {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || !editor.current) return null;
    const range = selection.getRangeAt(0);
    return editor.current.contains(range.commonAncestorContainer) ? range : null;
  }

  function applyFormat(command: 'bold' | 'italic' | 'insertUnorderedList' | 'insertOrderedList') {
    editor.current?.focus();
    // execCommand is what contentEditable offers for this; it keeps the browser's own undo history working.
    document.execCommand(command);
    onEditorInput();
  }

  function startLink() {
    const range = selectionInEditor();
    if (!range || range.collapsed) {
      setLinkError('Select the words to link first.');
      setLinking(false);
      return;
    }
    savedRange.current = range.cloneRange();
    setLinkError(null);
    setLinkUrl('');
    setLinking(true);
  }

  function applyLink() {
    const url = linkAddress(linkUrl);
    if (!url) {
      setLinkError('Enter a web address (https://…) or an email address.');
      return;
    }
    const range = savedRange.current;
    if (range && editor.current) {
      editor.current.focus();
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      document.execCommand('createLink', false, url);
    }
    setLinking(false);
    setLinkError(null);
    savedRange.current = null;
    onEditorInput();
  }

  function onEditorInput() {
    setRichEmpty(plainTextOf(editor.current ?? document.createElement('div')) === '');
    changed('bodyText', 'bodyHtml');
  }

  /** Pasted text arrives as text; pasted files are left to FileUploadZone, which attaches them. */
  function onEditorPaste(event: ClipboardEvent<HTMLDivElement>) {
    if (event.clipboardData.files.length > 0) return;
    event.preventDefault();
    document.execCommand('insertText', false, event.clipboardData.getData('text/plain'));
  }

  function switchFormat(next: Format) {
    if (next === format) return;
    // Going plain keeps the words; going rich starts from them as text.
    if (next === 'plain' && editor.current) setPlainText(plainTextOf(editor.current));
    setFormat(next);
    changed('bodyText', 'bodyHtml');
  }

  useEffect(() => {
    if (format === 'rich' && editor.current && plainText && editor.current.textContent === '') {
      editor.current.textContent = plainText;
      setRichEmpty(plainText.trim() === '');
    }
  }, [format, plainText]);

  function composed(): ComposeEmail {
    const rich = format === 'rich' && editor.current;
    return {
      to: toList,
      cc: ccList,
      ...(subject.trim() ? { subject: subject.trim() } : {}),
      bodyText: rich ? plainTextOf(editor.current!) : plainText.trim(),
      ...(rich ? { bodyHtml: editor.current!.innerHTML } : {}),
      attachmentIds,
      ...(mailboxId && mailboxes.length > 1 ? { integrationId: mailboxId } : {}),
      idempotencyKey,
    };
  }

  /** What the API would refuse for certain, said before asking it. */
  function check(input: ComposeEmail): boolean {
    const found: FieldErrors = {};
    if (input.to.length === 0) found.to = 'Name at least one recipient.';
    if (!input.bodyText) found.bodyText = 'Write the email first.';
    setErrors(found);
    return Object.keys(found).length === 0;
  }

  function failed(e: unknown) {
    const details = e instanceof ApiError ? e.details : [];
    setErrors(fieldErrorsFrom(details));
    setRequestError({ message: describeError(e), details });
  }

  async function showPreview() {
    setRequestError(null);
    setSent(null);
    const input = composed();
    if (!check(input)) return;
    setPreviewing(true);
    try {
      setPreview(await previewTicketEmail(ticket.id, input));
    } catch (e) {
      failed(e);
    } finally {
      setPreviewing(false);
    }
  }

  async function send(event: FormEvent) {
    event.preventDefault();
    setRequestError(null);
    setSent(null);
    const input = composed();
    if (!check(input)) return;
    setSending(true);
    try {
      const email = await sendTicketEmail(ticket.id, input);
      // The next email is a new one.
      setIdempotencyKey(newIdempotencyKey());
      setSubject('');
      setCc('');
      setPlainText('');
      if (editor.current) editor.current.innerHTML = '';
      setRichEmpty(true);
      setAttachmentIds([]);
      setPreview(null);
      setSent(`Email to ${email.to.join(', ')} queued: it goes out in a moment and shows in the thread.`);
      onSent(email);
    } catch (e) {
      failed(e);
    } finally {
      setSending(false);
    }
  }

  function toggleAttachment(attachmentId: string, on: boolean) {
    setAttachmentIds((ids) =>
      on ? [...ids.filter((i) => i !== attachmentId), attachmentId] : ids.filter((i) => i !== attachmentId),
    );
    changed('attachmentIds');
  }

  // Files that can go with an email: clean ones, ones still being scanned (sent once clean), and any chosen already.
  const sendable = (attachments ?? []).filter(
    (a) => a.scanStatus === 'clean' || a.scanStatus === 'pending_scan' || attachmentIds.includes(a.id),
  );
  const fields = [
    { name: 'to' },
    { name: 'cc' },
    { name: 'subject' },
    { name: 'bodyText' },
    { name: 'bodyHtml' },
    { name: 'attachmentIds' },
    { name: 'integrationId' },
  ];
  const leftover = requestError ? unclaimedErrors(fieldErrorsFrom(requestError.details), fields) : [];
  const toError = addressErrors(errors, 'to', toList);
  const ccError = addressErrors(errors, 'cc', ccList);
  const bodyError = errors.bodyText ?? errors.bodyHtml;
  const attachmentError = Object.entries(errors)
    .filter(([k]) => k === 'attachmentIds' || k.startsWith('attachmentIds.'))
    .map(([k, message]) => {
      const file = attachments?.find((a) => a.id === attachmentIds[Number(k.split('.')[1])]);
      return file ? `${file.fileName}: ${message}` : message;
    })
    .join(' ');
  const bodyEmpty = format === 'rich' ? richEmpty : plainText.trim() === '';

  return (
    <form className="card email-composer" onSubmit={(e) => void send(e)} noValidate aria-labelledby={`${id}-title`}>
      <div className="section-heading">
        <h2 id={`${id}-title`}>Write an email</h2>
        <button type="button" className="button-secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {mailboxes.length > 1 && (
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <select
            id={`${id}-from`}
            value={mailboxId}
            onChange={(e) => {
              setMailboxId(e.target.value);
              changed('integrationId');
            }}
            aria-invalid={errors.integrationId ? true : undefined}
            aria-describedby={errors.integrationId ? `${id}-from-error` : undefined}
          >
            {mailboxes.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} ({String(m.config.address ?? '')})
              </option>
            ))}
          </select>
          <FieldError id={`${id}-from-error`} message={errors.integrationId} />
        </div>
      )}
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <input
            id={`${id}-to`}
            type="text"
            inputMode="email"
            autoComplete="off"
            value={to}
            onChange={(e) => {
              setTo(e.target.value);
              changed('to');
            }}
            aria-invalid={toError ? true : undefined}
            aria-describedby={`${id}-to-hint${toError ? ` ${id}-to-error` : ''}`}
          />
          <span id={`${id}-to-hint`} className="hint">
            Comma separated.
          </span>
          <FieldError id={`${id}-to-error`} message={toError} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-cc`}>Cc</label>
          <input
            id={`${id}-cc`}
            type="text"
            inputMode="email"
            autoComplete="off"
            value={cc}
            onChange={(e) => {
              setCc(e.target.value);
              changed('cc');
            }}
            aria-invalid={ccError ? true : undefined}
            aria-describedby={ccError ? `${id}-cc-error` : undefined}
          />
          <FieldError id={`${id}-cc-error`} message={ccError} />
        </div>
        <div className="field span-2">
          <label htmlFor={`${id}-subject`}>Subject</label>
          <input
            id={`${id}-subject`}
            value={subject}
            placeholder={`Re: [#${ticket.number}] ${ticket.subject}`}
            onChange={(e) => {
              setSubject(e.target.value);
              changed('subject');
            }}
            aria-invalid={errors.subject ? true : undefined}
            aria-describedby={`${id}-subject-hint${errors.subject ? ` ${id}-subject-error` : ''}`}
          />
          <span id={`${id}-subject-hint`} className="hint">
            Leave empty to answer in the thread's subject, with the ticket reference that brings replies back here.
          </span>
          <FieldError id={`${id}-subject-error`} message={errors.subject} />
        </div>
      </div>

      <fieldset className="visibility">
        <legend>Format</legend>
        <label>
          <input type="radio" name={`${id}-format`} checked={format === 'rich'} onChange={() => switchFormat('rich')} />
          Rich text
        </label>
        <label>
          <input
            type="radio"
            name={`${id}-format`}
            checked={format === 'plain'}
            onChange={() => switchFormat('plain')}
          />
          Plain text
        </label>
      </fieldset>

      <div className="field">
        <span id={`${id}-body-label`} className="field-label">
          Message
        </span>
        {format === 'rich' ? (
          <>
            <div className="email-editor-toolbar" role="toolbar" aria-label="Formatting" aria-controls={`${id}-body`}>
              {/* mousedown would move the focus, and the selection with it, out of the editor */}
              <button
                type="button"
                className="button-secondary"
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => applyFormat('bold')}
              >
                <strong>Bold</strong>
              </button>
              <button
                type="button"
                className="button-secondary"
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => applyFormat('italic')}
              >
                <em>Italic</em>
              </button>
              <button
                type="button"
                className="button-secondary"
                onMouseDown={(e) => e.preventDefault()}
                onClick={startLink}
              >
                Link
              </button>
              <button
                type="button"
                className="button-secondary"
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => applyFormat('insertUnorderedList')}
              >
                • List
              </button>
              <button
                type="button"
                className="button-secondary"
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => applyFormat('insertOrderedList')}
              >
                1. List
              </button>
            </div>
            {linking && (
              <div className="email-link-row">
                <label htmlFor={`${id}-link`} className="visually-hidden">
                  Link address
                </label>
                <input
                  id={`${id}-link`}
                  ref={linkField}
                  value={linkUrl}
                  placeholder="https://example.com/help"
                  onChange={(e) => setLinkUrl(e.target.value)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      applyLink();
                    } else if (e.key === 'Escape') setLinking(false);
                  }}
                  aria-invalid={linkError ? true : undefined}
                  aria-describedby={linkError ? `${id}-link-error` : undefined}
                />
                <button type="button" onClick={applyLink}>
                  Add link
                </button>
                <button type="button" className="button-secondary" onClick={() => setLinking(false)}>
                  Cancel
                </button>
              </div>
            )}
            <FieldError id={`${id}-link-error`} message={linkError} />
            {/* biome-ignore lint/a11y/useSemanticElements: a rich text editor cannot be a textarea */}
            <div
              id={`${id}-body`}
              ref={editor}
              className="email-editor"
              contentEditable
              suppressContentEditableWarning
              role="textbox"
              tabIndex={0}
              aria-multiline="true"
              aria-labelledby={`${id}-body-label`}
              aria-invalid={bodyError ? true : undefined}
              aria-describedby={bodyError ? `${id}-body-error` : undefined}
              onInput={onEditorInput}
              onPaste={onEditorPaste}
            />
          </>
        ) : (
          <textarea
            id={`${id}-body`}
            rows={8}
            aria-labelledby={`${id}-body-label`}
            value={plainText}
            onChange={(e) => {
              setPlainText(e.target.value);
              changed('bodyText');
            }}
            aria-invalid={bodyError ? true : undefined}
            aria-describedby={bodyError ? `${id}-body-error` : undefined}
          />
        )}
        <FieldError id={`${id}-body-error`} message={bodyError} />
      </div>

      <FileUploadZone
        ticketId={ticket.id}
        attachments={attachments}
        onUploaded={(attachment) => {
          toggleAttachment(attachment.id, true);
          onAttachmentsChanged();
        }}
      />
      {sendable.length > 0 && (
        <fieldset className="email-files" aria-describedby={attachmentError ? `${id}-files-error` : undefined}>
          <legend>Files to send</legend>
          <p className="hint">Files still being scanned go out once they are clean; blocked files are never sent.</p>
          {sendable.map((file) => (
            <div key={file.id} className="field field-checkbox">
              <input
                id={`${id}-file-${file.id}`}
                type="checkbox"
                checked={attachmentIds.includes(file.id)}
                onChange={(e) => toggleAttachment(file.id, e.target.checked)}
              />
              <label htmlFor={`${id}-file-${file.id}`}>{file.fileName}</label>
              <span className={`badge scan-badge scan-${scanStatusTone(file)}`}>{scanStatusText(file)}</span>
            </div>
          ))}
          <FieldError id={`${id}-files-error`} message={attachmentError || undefined} />
        </fieldset>
      )}

      <div aria-live="polite">
        {requestError && (
          <ErrorNotice
            message={
              requestError.details.length > 0 && leftover.length === 0
                ? 'Please correct the fields marked above.'
                : requestError.message
            }
            details={leftover.length > 0 ? leftover : undefined}
          />
        )}
        {sent && <SuccessNotice message={sent} />}
      </div>
      <div className="form-actions">
        <button type="submit" disabled={sending || bodyEmpty}>
          {sending ? 'Sending…' : 'Send email'}
        </button>
        <button
          type="button"
          className="button-secondary"
          onClick={() => void showPreview()}
          disabled={previewing || bodyEmpty}
        >
          {previewing ? 'Rendering…' : 'Preview'}
        </button>
      </div>

      {preview && (
        <section className="email-preview" aria-labelledby={`${id}-preview-title`}>
          <h3 id={`${id}-preview-title`}>Preview</h3>
          <dl className="email-addresses">
            <dt>From</dt>
            <dd>{preview.from}</dd>
            <dt>To</dt>
            <dd>{preview.to.join(', ')}</dd>
            {preview.cc.length > 0 && (
              <>
                <dt>Cc</dt>
                <dd>{preview.cc.join(', ')}</dd>
              </>
            )}
            <dt>Subject</dt>
            <dd>{preview.subject}</dd>
          </dl>
          <SandboxedHtml html={preview.html} title="Preview of the email" />
          <details>
            <summary>Plain-text version</summary>
            <pre className="email-preview-text">{preview.text}</pre>
          </details>
        </section>
      )}
    </form>
  );
}
