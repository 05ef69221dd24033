// Rotating an endpoint's signing secret. During the overlap, deliveries are signed with the old and the new
// secret, so a receiver can switch over without dropping any; the new secret is shown once.
import { type FormEvent, useState } from 'react';
import { rotateWebhookSecret } from '../../api.ts';
import { formatTime } from '../../format.ts';
import { ErrorNotice, FieldError } from '../Notices.tsx';
import { type FormErrors, formErrorsFrom, noFormErrors } from './fieldErrors.ts';
import { SecretReveal } from './SecretReveal.tsx';

type Props = { endpointId: string; onRotated: () => void; onClose: () => void };

export function RotateSecretForm({ endpointId, onRotated, onClose }: Props) {
  const [overlapHours, setOverlapHours] = useState('24');
  const [errors, setErrors] = useState<FormErrors>(noFormErrors);
  const [saving, setSaving] = useState(false);
  const [rotated, setRotated] = useState<{ secret: string; previousSecretValidUntil: string | null } | null>(null);
  const inputId = `rotate-overlap-${endpointId}`;

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    const hours = Number(overlapHours);
    if (!/^\d+$/.test(overlapHours.trim()) || hours > 168) {
      setErrors({
        fields: { overlapHours: 'Enter a whole number of hours from 0 to 168.' },
        message: null,
        details: [],
      });
      return;
    }
    setErrors(noFormErrors);
    setSaving(true);
    try {
      setRotated(await rotateWebhookSecret(endpointId, hours));
      onRotated();
    } catch (e) {
      setErrors(formErrorsFrom(e, ['overlapHours']));
    } finally {
      setSaving(false);
    }
  }

  if (rotated) {
    return (
      <SecretReveal secret={rotated.secret} title="New signing secret" onDone={onClose}>
        <p className="hint">
          {rotated.previousSecretValidUntil
            ? `Deliveries are also signed with the previous secret until ${formatTime(rotated.previousSecretValidUntil)}.`
            : 'The previous secret no longer signs deliveries.'}
        </p>
      </SecretReveal>
    );
  }

  return (
    <form
      className="rotate-secret"
      aria-label="Rotate signing secret"
      onSubmit={(e) => void handleSubmit(e)}
      noValidate
    >
      <div className="field">
        <label htmlFor={inputId}>Keep signing with the old secret for (hours)</label>
        <input
          id={inputId}
          type="number"
          min={0}
          max={168}
          value={overlapHours}
          onChange={(e) => setOverlapHours(e.target.value)}
          aria-invalid={errors.fields.overlapHours ? true : undefined}
          aria-describedby={`${inputId}-hint${errors.fields.overlapHours ? ` ${inputId}-error` : ''}`}
        />
        <span id={`${inputId}-hint`} className="hint">
          0 stops the old secret at once; up to 168 (a week).
        </span>
        <FieldError id={`${inputId}-error`} message={errors.fields.overlapHours} />
      </div>
      <div className="form-actions">
        <button type="submit" disabled={saving}>
          {saving ? 'Rotating…' : 'Rotate secret'}
        </button>
        <button type="button" className="button-secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
      <div aria-live="polite">
        {errors.message && <ErrorNotice message={errors.message} details={errors.details} />}
      </div>
    </form>
  );
}
