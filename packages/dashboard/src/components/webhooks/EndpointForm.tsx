// Creating or editing a webhook endpoint: URL, description, the event types it receives, and its throttle.
// The API checks the URL (https, no private addresses) and the event types; its errors appear beside each field.
import { type FormEvent, useState } from 'react';
import {
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  MAX_CONCURRENCY,
  MAX_RATE_LIMIT_PER_SECOND,
} from '../../../../../common/webhooks/endpoint-limits.ts';
import type { NewWebhookEndpoint, WebhookEndpoint } from '../../api.ts';
import { ErrorNotice, FieldError } from '../Notices.tsx';
import { EventTypePicker } from './EventTypePicker.tsx';
import { type FormErrors, formErrorsFrom, noFormErrors } from './fieldErrors.ts';

type EventTypes = NewWebhookEndpoint['eventTypes'];

const fields = [
  'url',
  'description',
  'eventTypes',
  'enabled',
  'rateLimitPerSecond',
  'maxConcurrency',
  'excludeInternalNotes',
] as const;

type Props = {
  endpoint?: WebhookEndpoint;
  /** Saves the input; throws the API's error, which the form shows. */
  onSubmit: (input: NewWebhookEndpoint) => Promise<void>;
  onCancel: () => void;
};

export function EndpointForm({ endpoint, onSubmit, onCancel }: Props) {
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [eventTypes, setEventTypes] = useState<EventTypes>((endpoint?.eventTypes ?? []) as EventTypes);
  const [enabled, setEnabled] = useState(endpoint?.enabled ?? true);
  const [excludeInternalNotes, setExcludeInternalNotes] = useState(endpoint?.excludeInternalNotes ?? false);
  const [rateLimit, setRateLimit] = useState(String(endpoint?.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT_PER_SECOND));
  const [concurrency, setConcurrency] = useState(String(endpoint?.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY));
  const [errors, setErrors] = useState<FormErrors>(noFormErrors);
  const [saving, setSaving] = useState(false);
  const idPrefix = `webhook-${endpoint?.id ?? 'new'}`;

  function checkLocally(): Record<string, string> {
    const found: Record<string, string> = {};
    if (!url.trim()) found.url = 'Enter the URL Switchboard should POST events to.';
    if (eventTypes.length === 0) found.eventTypes = 'Choose at least one event type.';
    if (!/^\d+$/.test(rateLimit.trim())) found.rateLimitPerSecond = 'Enter a whole number of requests per second.';
    if (!/^\d+$/.test(concurrency.trim())) found.maxConcurrency = 'Enter a whole number of parallel requests.';
    return found;
  }

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    const local = checkLocally();
    setErrors({ fields: local, message: null, details: [] });
    if (Object.keys(local).length > 0) return;
    setSaving(true);
    try {
      await onSubmit({
        url: url.trim(),
        description: description.trim(),
        eventTypes,
        enabled,
        rateLimitPerSecond: Number(rateLimit),
        maxConcurrency: Number(concurrency),
        excludeInternalNotes,
      });
    } catch (e) {
      setErrors(formErrorsFrom(e, fields));
    } finally {
      setSaving(false);
    }
  }

  const describedBy = (field: string, hint?: string) =>
    [hint, errors.fields[field] ? `${idPrefix}-${field}-error` : undefined].filter(Boolean).join(' ') || undefined;

  return (
    <form
      className="webhook-endpoint-form"
      aria-label={endpoint ? 'Edit webhook endpoint' : 'New webhook endpoint'}
      onSubmit={(e) => void handleSubmit(e)}
      noValidate
    >
      <div className="form-fields">
        <div className="field">
          <label htmlFor={`${idPrefix}-url`}>Endpoint URL</label>
          <input
            id={`${idPrefix}-url`}
            type="url"
            inputMode="url"
            placeholder="https://example.com/webhooks/switchboard"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            aria-invalid={errors.fields.url ? true : undefined}
            aria-describedby={describedBy('url', `${idPrefix}-url-hint`)}
          />
          <span id={`${idPrefix}-url-hint`} className="hint">
            HTTPS, reachable from the internet: private and internal addresses are refused.
          </span>
          <FieldError id={`${idPrefix}-url-error`} message={errors.fields.url} />
        </div>
        <div className="field">
          <label htmlFor={`${idPrefix}-description`}>Description</label>
          <input
            id={`${idPrefix}-description`}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            aria-invalid={errors.fields.description ? true : undefined}
            aria-describedby={describedBy('description')}
          />
          <FieldError id={`${idPrefix}-description-error`} message={errors.fields.description} />
        </div>
        <EventTypePicker
          idPrefix={idPrefix}
          selected={eventTypes}
          // The picker offers the server's own list (GET /api/webhooks/event-types), so every choice is a type it takes.
          onChange={(chosen) => setEventTypes(chosen as EventTypes)}
          error={errors.fields.eventTypes}
        />
        <div className="form-grid">
          <div className="field">
            <label htmlFor={`${idPrefix}-rate`}>Rate limit (requests per second)</label>
            <input
              id={`${idPrefix}-rate`}
              type="number"
              min={1}
              max={MAX_RATE_LIMIT_PER_SECOND}
              value={rateLimit}
              onChange={(e) => setRateLimit(e.target.value)}
              aria-invalid={errors.fields.rateLimitPerSecond ? true : undefined}
              aria-describedby={describedBy('rateLimitPerSecond')}
            />
            <FieldError id={`${idPrefix}-rateLimitPerSecond-error`} message={errors.fields.rateLimitPerSecond} />
          </div>
          <div className="field">
            <label htmlFor={`${idPrefix}-concurrency`}>Parallel requests at most</label>
            <input
              id={`${idPrefix}-concurrency`}
              type="number"
              min={1}
              max={MAX_CONCURRENCY}
              value={concurrency}
              onChange={(e) => setConcurrency(e.target.value)}
              aria-invalid={errors.fields.maxConcurrency ? true : undefined}
              aria-describedby={describedBy('maxConcurrency')}
            />
            <FieldError id={`${idPrefix}-maxConcurrency-error`} message={errors.fields.maxConcurrency} />
          </div>
        </div>
        <div className="field field-checkbox">
          <input
            id={`${idPrefix}-exclude-internal`}
            type="checkbox"
            checked={excludeInternalNotes}
            onChange={(e) => setExcludeInternalNotes(e.target.checked)}
            aria-describedby={`${idPrefix}-exclude-internal-hint`}
          />
          <label htmlFor={`${idPrefix}-exclude-internal`}>Leave out internal notes</label>
          <span id={`${idPrefix}-exclude-internal-hint`} className="hint">
            comment.created is sent for public replies only; internal notes (with their text) never reach this URL.
          </span>
        </div>
        <div className="field field-checkbox">
          <input
            id={`${idPrefix}-enabled`}
            type="checkbox"
            checked={enabled}
            onChange={(e) => setEnabled(e.target.checked)}
          />
          <label htmlFor={`${idPrefix}-enabled`}>Enabled</label>
        </div>
        <div className="form-actions">
          <button type="submit" disabled={saving}>
            {saving ? 'Saving…' : endpoint ? 'Save endpoint' : 'Create endpoint'}
          </button>
          <button type="button" className="button-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </div>
      <div className="form-errors" aria-live="polite">
        {errors.message && <ErrorNotice message={errors.message} details={errors.details} />}
        {!errors.message && Object.keys(errors.fields).length > 0 && (
          <p className="notice notice-error" role="alert">
            Please correct the fields marked below their labels.
          </p>
        )}
      </div>
    </form>
  );
}
