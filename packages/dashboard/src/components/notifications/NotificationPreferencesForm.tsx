// A member's own notification preferences: which channels for which category of event, quiet hours in their time
// zone, and a digest cadence. Rules decide who is told of what; these decide how this member hears of it, and a rule
// never overrides an "off" here, except for critical alerts, which always arrive at once.
import { type FormEvent, useState } from 'react';
import { ApiError, describeError, type ErrorDetail } from '../../api.ts';
import {
  categoryLabels,
  channelLabels,
  getNotificationPreferences,
  type NotificationCategory,
  type NotificationChannel,
  type NotificationPreferences,
  type NotificationPreferencesInput,
  notificationCategories,
  notificationChannels,
  saveNotificationPreferences,
} from '../../notifications.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, FieldError, Loading, SuccessNotice } from '../Notices.tsx';

type Grid = Record<NotificationCategory, NotificationChannel[]>;
type Digest = NotificationPreferences['digestFrequency'];

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function timeZones(current: string): string[] {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return [...new Set([current, 'UTC', ...supported])].sort();
}

/** A category the member never set keeps every channel (the server's rule), so the grid shows it all ticked. */
function gridOf(prefs: NotificationPreferences): Grid {
  return Object.fromEntries(
    notificationCategories.map((c) => [c, [...(prefs.channels[c] ?? notificationChannels)]]),
  ) as Grid;
}

function PreferencesEditor({ saved, onSaved }: { saved: NotificationPreferences; onSaved: () => Promise<void> }) {
  const [grid, setGrid] = useState<Grid>(() => gridOf(saved));
  const [quiet, setQuiet] = useState(saved.quietHours !== null);
  const [start, setStart] = useState(saved.quietHours?.start ?? '22:00');
  const [end, setEnd] = useState(saved.quietHours?.end ?? '07:00');
  const [timeZone, setTimeZone] = useState(saved.quietHours?.timeZone ?? browserTimeZone());
  const [digest, setDigest] = useState<Digest>(saved.digestFrequency);
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [details, setDetails] = useState<ErrorDetail[]>([]);

  const errorAt = (prefix: string) =>
    details
      .filter((d) => d.path === `body.${prefix}` || d.path.startsWith(`body.${prefix}.`))
      .map((d) => d.message)
      .join('; ') || null;

  function toggle(category: NotificationCategory, channel: NotificationChannel, on: boolean) {
    setGrid((g) => ({
      ...g,
      [category]: on
        ? notificationChannels.filter((c) => c === channel || g[category].includes(c))
        : g[category].filter((c) => c !== channel),
    }));
  }

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    setSaving(true);
    setMessage(null);
    setError(null);
    setDetails([]);
    const input: NotificationPreferencesInput = {
      channels: grid,
      quietHours: quiet ? { start, end, timeZone } : null,
      digestFrequency: digest,
    };
    try {
      await saveNotificationPreferences(input);
      await onSaved();
      setMessage('Preferences saved.');
    } catch (e) {
      setError(describeError(e));
      setDetails(e instanceof ApiError ? e.details : []);
    } finally {
      setSaving(false);
    }
  }

  const zones = timeZones(timeZone);
  return (
    <form className="notification-preferences" aria-label="Notification preferences" onSubmit={handleSubmit}>
      <p className="notice notice-warning">
        Critical alerts (such as an SLA breach) ignore these preferences: they reach you on their rule’s channels at
        once, even during quiet hours, until someone acknowledges them.
      </p>
      <fieldset className="card">
        <legend>Channels per category</legend>
        <p className="hint">Untick every channel of a category to stop hearing of it (critical alerts still arrive).</p>
        <div className="table-scroll">
          <table className="preferences-grid">
            <thead>
              <tr>
                <th scope="col">Category</th>
                {notificationChannels.map((channel) => (
                  <th scope="col" key={channel}>
                    {channelLabels[channel]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {notificationCategories.map((category) => (
                <tr key={category}>
                  <th scope="row">
                    {categoryLabels[category].label}
                    <div className="muted">{categoryLabels[category].hint}</div>
                  </th>
                  {notificationChannels.map((channel) => (
                    <td key={channel}>
                      <input
                        type="checkbox"
                        aria-label={`${categoryLabels[category].label} by ${channelLabels[channel]}`}
                        checked={grid[category].includes(channel)}
                        onChange={(e) => toggle(category, channel, e.target.checked)}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <FieldError id="prefs-channels-error" message={errorAt('channels')} />
      </fieldset>

      <fieldset className="card">
        <legend>Quiet hours</legend>
        <div className="field field-checkbox">
          <input id="prefs-quiet" type="checkbox" checked={quiet} onChange={(e) => setQuiet(e.target.checked)} />
          <label htmlFor="prefs-quiet">Hold notifications during quiet hours</label>
        </div>
        {quiet && (
          <div className="form-grid quiet-hours-grid">
            <div className="field">
              <label htmlFor="prefs-quiet-start">From</label>
              <input
                id="prefs-quiet-start"
                type="time"
                value={start}
                onChange={(e) => setStart(e.target.value)}
                aria-invalid={errorAt('quietHours.start') ? true : undefined}
              />
              <FieldError id="prefs-quiet-start-error" message={errorAt('quietHours.start')} />
            </div>
            <div className="field">
              <label htmlFor="prefs-quiet-end">Until</label>
              <input
                id="prefs-quiet-end"
                type="time"
                value={end}
                onChange={(e) => setEnd(e.target.value)}
                aria-invalid={errorAt('quietHours.end') ? true : undefined}
              />
              <FieldError id="prefs-quiet-end-error" message={errorAt('quietHours.end')} />
            </div>
            <div className="field span-2">
              <label htmlFor="prefs-quiet-zone">Time zone</label>
              <select id="prefs-quiet-zone" value={timeZone} onChange={(e) => setTimeZone(e.target.value)}>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {z}
                  </option>
                ))}
              </select>
              <span className="hint">
                Notifications that arrive in these hours wait until they end, then come together.
              </span>
              <FieldError id="prefs-quiet-zone-error" message={errorAt('quietHours.timeZone')} />
            </div>
          </div>
        )}
      </fieldset>

      <fieldset className="card">
        <legend>Digest</legend>
        <div className="field">
          <label htmlFor="prefs-digest">Gather my notifications into a digest</label>
          <select id="prefs-digest" value={digest} onChange={(e) => setDigest(e.target.value as Digest)}>
            <option value="off">Off: as each rule says</option>
            <option value="hourly">Hourly</option>
            <option value="daily">Daily</option>
          </select>
        </div>
      </fieldset>

      <div className="form-actions">
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : 'Save preferences'}
        </button>
      </div>
      <div aria-live="polite">
        {message && <SuccessNotice message={message} />}
        {error && <ErrorNotice message={error} details={details} />}
      </div>
    </form>
  );
}

export function NotificationPreferencesForm() {
  const prefs = useLoader('notification-preferences', getNotificationPreferences);
  if (prefs.loading && !prefs.data) return <Loading what="your preferences" />;
  if (prefs.error) return <ErrorNotice message={prefs.error} onRetry={() => void prefs.reload()} />;
  if (!prefs.data) return null;
  return <PreferencesEditor saved={prefs.data} onSaved={prefs.reload} />;
}
