// A value shown once (a signing secret, an invitation link) with a copy button. Copying uses the clipboard API;
// where the browser refuses it (no permission, not a secure context) the value is selected in its field so the
// person can copy it by hand, and the notice says so.
import { useRef, useState } from 'react';

type Props = {
  id: string;
  label: string;
  value: string;
  /** What the notices call it: "secret", "link". */
  noun: string;
};

export function CopyField({ id, label, value, noun }: Props) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'manual'>('idle');
  const field = useRef<HTMLInputElement>(null);
  const Noun = noun.charAt(0).toUpperCase() + noun.slice(1);

  async function copyValue() {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard API');
      await navigator.clipboard.writeText(value);
      setCopy('copied');
    } catch {
      field.current?.focus();
      field.current?.select();
      setCopy('manual');
    }
  }

  return (
    <>
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <div className="secret-row">
          <input id={id} ref={field} className="code" readOnly value={value} onFocus={(e) => e.target.select()} />
          <button type="button" onClick={() => void copyValue()}>
            Copy {noun}
          </button>
        </div>
      </div>
      <div aria-live="polite">
        {copy === 'copied' && <p className="notice notice-success">{Noun} copied to the clipboard.</p>}
        {copy === 'manual' && (
          <p className="notice">
            The browser did not allow copying. The {noun} is selected in its field: press Ctrl+C (⌘C) to copy it.
          </p>
        )}
      </div>
    </>
  );
}
