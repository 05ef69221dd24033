// A signing secret, shown in full exactly once (after creating an endpoint or rotating its secret), to copy
// (CopyField).
import type { ReactNode } from 'react';
import { CopyField } from '../CopyField.tsx';

type Props = { secret: string; title: string; children?: ReactNode; onDone: () => void; doneLabel?: string };

export function SecretReveal({ secret, title, children, onDone, doneLabel = 'Done' }: Props) {
  return (
    <section className="secret-reveal" aria-labelledby="secret-reveal-title">
      <h3 id="secret-reveal-title">{title}</h3>
      <p className="secret-warning">
        Copy this signing secret now: <strong>you won't see it again.</strong> Switchboard stores it encrypted and only
        shows its last characters from now on.
      </p>
      <CopyField id="webhook-secret" label="Signing secret" value={secret} noun="secret" />
      {children}
      <div className="form-actions">
        <button type="button" className="button-secondary" onClick={onDone}>
          {doneLabel}
        </button>
      </div>
    </section>
  );
}
