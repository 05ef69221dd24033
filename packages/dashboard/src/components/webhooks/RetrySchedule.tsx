// The organisation's retry schedule (admins): the waits after each failed delivery attempt. The API checks it
// (1–20 waits, each 1 s–24 h, none shorter than the one before) and names the wait that is wrong.
import { type FormEvent, useEffect, useId, useState } from 'react';
import { ApiError, describeError, getWebhookRetrySchedule, setWebhookRetrySchedule } from '../../api.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, FieldError, Loading, SuccessNotice } from '../Notices.tsx';
import { formatWaits, parseWaits } from './retry-waits.ts';

/** "retryDelaysSeconds.2: …" from the API becomes "Wait 3: …". */
function explain(error: unknown): string {
  if (!(error instanceof ApiError) || error.details.length === 0) return describeError(error);
  return error.details
    .map((d) => {
      const step = /retryDelaysSeconds\.(\d+)$/.exec(d.path);
      return step ? `Wait ${Number(step[1]) + 1}: ${d.message}` : d.message;
    })
    .join(' ');
}

export function RetrySchedule() {
  const id = useId();
  const schedule = useLoader('retry-schedule', getWebhookRetrySchedule);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (schedule.data) setText(formatWaits(schedule.data.retryDelaysSeconds));
  }, [schedule.data]);

  async function save(retryDelaysSeconds: number[] | null) {
    setSaving(true);
    setError(null);
    setSaved(null);
    try {
      const result = await setWebhookRetrySchedule(retryDelaysSeconds);
      setText(formatWaits(result.retryDelaysSeconds));
      setSaved(result.isDefault ? 'Retry schedule reset to the default.' : 'Retry schedule saved.');
    } catch (e) {
      setError(explain(e));
    } finally {
      setSaving(false);
    }
  }

  function handleSubmit(event: FormEvent) {
    event.preventDefault();
    const parsed = parseWaits(text);
    if (!parsed.ok) return setError(parsed.message);
    void save(parsed.seconds);
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Retry schedule</h2>
      {schedule.loading && !schedule.data && <Loading what="the retry schedule" />}
      {schedule.error && <ErrorNotice message={schedule.error} onRetry={() => void schedule.reload()} />}
      {schedule.data && (
        <form aria-label="Retry schedule" onSubmit={handleSubmit} noValidate>
          <div className="field">
            <label htmlFor={`${id}-waits`}>Waits after each failed attempt</label>
            <input
              id={`${id}-waits`}
              value={text}
              onChange={(e) => setText(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
            />
            <span id={`${id}-hint`} className="hint">
              Comma-separated, like 30s, 5m, 2h: up to 20 waits, each at most 24h and none shorter than the one before.
              Default: {formatWaits(schedule.data.defaultRetryDelaysSeconds)}.
            </span>
            <FieldError id={`${id}-error`} message={error ?? undefined} />
          </div>
          <div className="form-actions">
            <button type="submit" disabled={saving}>
              {saving ? 'Saving…' : 'Save retry schedule'}
            </button>
            <button type="button" className="button-secondary" disabled={saving} onClick={() => void save(null)}>
              Reset to default
            </button>
          </div>
          {saved && <SuccessNotice message={saved} />}
        </form>
      )}
    </section>
  );
}
