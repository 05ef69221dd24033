// Loading and error states, announced to screen readers as they appear.
import type { ErrorDetail } from '../api.ts';

export function Loading({ what }: { what: string }) {
  return (
    <p className="notice notice-loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** "body.config.url" → "config.url": the form is the body, so the prefix says nothing to the reader. */
function fieldPath(path: string): string {
  return path.replace(/^(body|query|params)\./, '');
}

/** API messages start lower-case ("ticket not found"); on screen they read as sentences. */
function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}

export function ErrorNotice({
  message,
  details,
  onRetry,
}: {
  message: string;
  details?: ErrorDetail[];
  onRetry?: () => void;
}) {
  return (
    <div className="notice notice-error" role="alert">
      {/* With details, the message only repeats them; the list says it more readably. */}
      <p>{details && details.length > 0 ? 'Please correct the following:' : sentence(message)}</p>
      {details && details.length > 0 && (
        <ul className="notice-details">
          {details.map((d) => (
            <li key={`${d.path}:${d.message}`}>
              {d.path ? <code>{fieldPath(d.path)}</code> : null}
              {d.path ? ': ' : ''}
              {d.message}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" className="button-secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function SuccessNotice({ message }: { message: string }) {
  return (
    <p className="notice notice-success" role="status" aria-live="polite">
      {message}
    </p>
  );
}

/** The error of one form field, under it; the field names it with aria-describedby={id}. Nothing when none. */
export function FieldError({ id, message }: { id: string; message: string | null | undefined }) {
  return message ? (
    <span id={id} className="field-error">
      {message}
    </span>
  ) : null;
}
