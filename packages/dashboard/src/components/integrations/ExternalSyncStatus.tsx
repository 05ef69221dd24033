// How one link between a ticket and an external issue is syncing: synced/pending/rate limited/failed, when it last
// synced, when a rate-limited one tries again, why it failed, the conflicts the sync settled (both values and which side won), and a retry for a failed link.
import { useState } from 'react';
import { describeError, type LinearConflict, type LinearLink, retryLinearLink, syncLinearLinkNow } from '../../api.ts';
import { formatTime, humanize } from '../../format.ts';

const statusLabels: Record<LinearLink['syncStatus'], string> = {
  synced: 'Synced',
  pending: 'Sync pending',
  rate_limited: 'Rate limited',
  failed: 'Sync failed',
};

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

/** "2 minutes ago"; the exact time goes in the title. */
export function relativeTime(iso: string, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  if (Number.isNaN(diff)) return iso;
  if (Math.abs(diff) < 10_000) return 'just now';
  for (const [unit, ms] of units) {
    if (Math.abs(diff) >= ms || unit === 'second') return relative.format(Math.round(diff / ms), unit);
  }
  return iso;
}

function TimeAgo({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}

/** A synced value as words: statuses and priorities are enum values, assignees come as objects or emails. */
function showValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'none';
  if (typeof value === 'string') return humanize(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const v = value as { name?: unknown; email?: unknown };
    if (typeof v.name === 'string') return v.name;
    if (typeof v.email === 'string') return v.email;
  }
  return JSON.stringify(value);
}

/** When one side changed the field, when known: the two times are what the `latest` policy compared. */
function ChangedAt({ iso }: { iso: string | null }) {
  if (!iso) return null;
  return (
    <span className="muted sync-conflict-changed">
      {' '}
      (changed <time dateTime={iso}>{new Date(iso).toLocaleString()}</time>)
    </span>
  );
}

function Conflict({ conflict }: { conflict: LinearConflict }) {
  return (
    <li className="sync-conflict">
      <strong className="badge-value">{conflict.field}</strong>: ticket <q>{showValue(conflict.ticketValue)}</q>
      <ChangedAt iso={conflict.ticketChangedAt} />, Linear <q>{showValue(conflict.linearValue)}</q>
      <ChangedAt iso={conflict.linearChangedAt} /> → <span className="sync-conflict-winner">{conflict.winner} won</span>{' '}
      <span className="muted">
        ({conflict.policy === 'latest' ? 'later change' : `${conflict.policy} wins`}, <TimeAgo iso={conflict.at} />)
      </span>
    </li>
  );
}

export function ExternalSyncStatus({
  ticketId,
  link,
  canRetry,
  onRetried,
}: {
  ticketId: string;
  link: LinearLink;
  canRetry: boolean;
  /** After the retry was accepted: the caller reloads its links. */
  onRetried?: () => void;
}) {
  const [retrying, setRetrying] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = link.identifier ?? 'the issue';

  /** Retry (a failed link) and Sync now (a healthy one) both hand the link's workflow a request and reload. */
  async function ask(call: (ticketId: string, linkId: string) => Promise<unknown>, done: string) {
    setRetrying(true);
    setError(null);
    setMessage(null);
    try {
      await call(ticketId, link.id);
      setMessage(done);
      onRetried?.();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setRetrying(false);
    }
  }

  return (
    <div className="sync-status">
      <p className="sync-status-line">
        <span className={`badge sync-${link.syncStatus}`}>{statusLabels[link.syncStatus]}</span>{' '}
        <span className="muted">
          {link.lastSyncAt ? (
            <>
              last synced <TimeAgo iso={link.lastSyncAt} />
            </>
          ) : (
            'not synced yet'
          )}
        </span>
      </p>
      {link.syncStatus === 'rate_limited' && (
        <p className="hint sync-rate-limited">
          Linear’s rate limit holds this link back: next attempt{' '}
          {link.nextAttemptAt ? <TimeAgo iso={link.nextAttemptAt} /> : 'soon'}.
        </p>
      )}
      {link.lastError && (
        <p className="health-error sync-error">
          <span className="visually-hidden">Last error: </span>
          {link.lastError}
        </p>
      )}
      {link.conflicts.length > 0 && (
        <details className="sync-conflicts">
          <summary>{link.conflicts.length === 1 ? '1 conflict' : `${link.conflicts.length} conflicts`} settled</summary>
          <ul className="sync-conflict-list" aria-label={`Conflicts on ${name}`}>
            {link.conflicts.map((c) => (
              <Conflict key={`${c.field}:${c.at}`} conflict={c} />
            ))}
          </ul>
        </details>
      )}
      {link.syncStatus === 'failed' && canRetry && (
        <button
          type="button"
          className="button-secondary"
          onClick={() => void ask(retryLinearLink, 'Retry queued.')}
          disabled={retrying}
          aria-label={`Retry sync of ${name}`}
        >
          {retrying ? 'Retrying…' : 'Retry sync'}
        </button>
      )}
      {link.syncStatus !== 'failed' && canRetry && (
        <button
          type="button"
          className="button-secondary"
          onClick={() => void ask(syncLinearLinkNow, 'Sync requested: both sides are being compared.')}
          disabled={retrying}
          aria-label={`Sync ${name} now`}
        >
          {retrying ? 'Requesting…' : 'Sync now'}
        </button>
      )}
      <div aria-live="polite">{message && <span className="hint">{message}</span>}</div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
