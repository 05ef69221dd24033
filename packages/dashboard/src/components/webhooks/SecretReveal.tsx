// A signing secret, shown in full exactly once (after creating an endpoint or rotating its secret).
// Copying uses the clipboard API; where the browser refuses it (no permission, not a secure context) the
// secret is selected in its field so the person can copy it by hand, and the notice says so.
import { type ReactNode, useRef, useState } from 'react';

type Props = { secret: string; title: string; children?: ReactNode; onDone: () => void; doneLabel?: string };

type CopyState = 'idle' | 'copied' | 'manual';

export function SecretReveal({ secret, title, children, onDone, doneLabel = 'Done' }: Props) {
  const [copy, setCopy] = useState<CopyState>('idle');
  const field = useRef<HTMLInputElement>(null);

  async function copySecret() {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard API');
      await navigator.clipboard.writeText(secret);
      setCopy('copied');
    } catch {
      field.current?.focus();
      field.current?.select();
      setCopy('manual');
    }
  }

  return (
    <section className="secret-reveal" aria-labelledby="secret-reveal-title">
      <h3 id="secret-reveal-title">{title}</h3>
      <p className="secret-warning">
        Copy this signing secret now: <strong>you won't see it again.</strong> Switchboard stores it encrypted and only
        shows its last characters from now on.
      </p>
      <div className="field">
        <label htmlFor="webhook-secret">Signing secret</label>
        <div className="secret-row">
          <input
            id="webhook-secret"
            ref={field}
            className="code"
            readOnly
            value={secret}
            onFocus={(e) => e.target.select()}
          />
          <button type="button" onClick={() => void copySecret()}>
            Copy secret
          </button>
        </div>
      </div>
      <div aria-live="polite">
        {copy === 'copied' && <p className="notice notice-success">Secret copied to the clipboard.</p>}
        {copy === 'manual' && (
          <p className="notice">
            The browser did not allow copying. The secret is selected in its field: press Ctrl+C (⌘C) to copy it.
          </p>
        )}
      </div>
      {children}
      <div className="form-actions">
        <button type="button" className="button-secondary" onClick={onDone}>
          {doneLabel}
        </button>
      </div>
    </section>
  );
}
