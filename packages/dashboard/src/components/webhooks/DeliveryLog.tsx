// An endpoint's delivery log, newest first: filter by status, open a delivery's attempts, resend one, or resend
// every failed delivery since a chosen time. While deliveries are pending it refreshes itself, so a test event
// can be watched going through.
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import {
  describeError,
  listWebhookDeliveries,
  resendFailedWebhookDeliveries,
  resendWebhookDelivery,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  webhookDeliveryStatuses,
} from '../../api.ts';
import { formatTime } from '../../format.ts';
import { ErrorNotice, FieldError, SuccessNotice } from '../Notices.tsx';
import { DeliveryAttempts } from './DeliveryAttempts.tsx';

// While a pending delivery is due (or nearly), the log looks again every 2 s; one waiting hours for its next
// retry only needs a look now and then, not a request every 2 s for as long as the page is open.
const DUE_POLL_MS = 2_000;
const WAITING_POLL_MS = 30_000;

function pollDelayMs(deliveries: WebhookDelivery[], now: number): number | null {
  const pending = deliveries.filter((d) => d.status === 'pending');
  if (pending.length === 0) return null;
  const soonest = Math.min(...pending.map((d) => (d.nextAttemptAt ? Date.parse(d.nextAttemptAt) : now)));
  // Overdue by a minute: nothing is sending right now (the delivery worker is down), so no hurry either.
  if (soonest < now - 60_000) return WAITING_POLL_MS;
  return Math.min(Math.max(soonest - now, DUE_POLL_MS), WAITING_POLL_MS);
}

type Props = {
  endpointId: string;
  canManage: boolean;
  /** Changes when something outside the log queued a delivery (a test event), so the log reloads. */
  refreshKey: number;
  /** Called when deliveries settled since the last look, so the endpoint's health can be read again. */
  onSettled?: () => void;
};

type Page = { deliveries: WebhookDelivery[]; nextCursor: string | null };

/** A datetime-local value ("2026-11-26T09:30") for a moment, in the browser's time zone. */
function localInputValue(date: Date): string {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

export function DeliveryLog({ endpointId, canManage, refreshKey, onSettled }: Props) {
  const [status, setStatus] = useState<WebhookDeliveryStatus | ''>('');
  const [page, setPage] = useState<Page | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<string[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [since, setSince] = useState(() => localInputValue(new Date(Date.now() - 24 * 3_600_000)));
  const [sinceError, setSinceError] = useState<string | null>(null);
  const latest = useRef(0);

  // Reloads the first page for the current filter; a slower, older request never overwrites a newer one.
  const load = useCallback(async () => {
    const request = ++latest.current;
    setLoading(true);
    try {
      const result = await listWebhookDeliveries(endpointId, status);
      if (request !== latest.current) return;
      setPage({ deliveries: result.data, nextCursor: result.nextCursor });
      setLoadError(null);
    } catch (e) {
      if (request === latest.current) setLoadError(describeError(e));
    } finally {
      if (request === latest.current) setLoading(false);
    }
  }, [endpointId, status]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey is a reload trigger, not read
  useEffect(() => {
    void load();
  }, [load, refreshKey]);

  // A delivery that settled since the last look changes the endpoint's health and may have disabled it (410,
  // failing too long). It counts whether the log saw it pending or not: a fast 410 fails before the first look.
  const seenSettled = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!page) return;
    const seen = seenSettled.current;
    const next = new Set(seen);
    let settledNow = false;
    for (const d of page.deliveries) {
      // A resent delivery is pending again: its next outcome is news again.
      if (d.status === 'pending') next.delete(d.id);
      else if (!next.has(d.id)) {
        next.add(d.id);
        settledNow = true;
      }
    }
    seenSettled.current = next;
    if (seen && settledNow) onSettled?.();
  }, [page, onSettled]);

  // Each answer schedules the next look (a new `page` object), so one timer is pending at a time.
  useEffect(() => {
    const delay = page ? pollDelayMs(page.deliveries, Date.now()) : null;
    if (delay === null) return;
    const timer = setTimeout(() => void load(), delay);
    return () => clearTimeout(timer);
  }, [page, load]);

  async function loadMore() {
    if (!page?.nextCursor) return;
    try {
      const result = await listWebhookDeliveries(endpointId, status, page.nextCursor);
      setPage({ deliveries: [...page.deliveries, ...result.data], nextCursor: result.nextCursor });
    } catch (e) {
      setLoadError(describeError(e));
    }
  }

  async function resend(delivery: WebhookDelivery) {
    setMessage(null);
    setActionError(null);
    try {
      await resendWebhookDelivery(delivery.id);
      await load();
      setMessage(`Delivery of ${delivery.eventType} queued again.`);
    } catch (e) {
      setActionError(describeError(e));
    }
  }

  async function resendFailed(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    setActionError(null);
    const sinceDate = new Date(since);
    if (!since || Number.isNaN(sinceDate.getTime())) {
      setSinceError('Choose the date and time to resend failed deliveries from.');
      return;
    }
    setSinceError(null);
    try {
      const { count } = await resendFailedWebhookDeliveries(endpointId, sinceDate.toISOString());
      await load();
      setMessage(
        count === 0
          ? `No failed deliveries since ${formatTime(sinceDate.toISOString())}.`
          : `${count} failed ${count === 1 ? 'delivery' : 'deliveries'} queued again.`,
      );
    } catch (e) {
      setActionError(describeError(e));
    }
  }

  function toggle(id: string) {
    setExpanded((open) => (open.includes(id) ? open.filter((x) => x !== id) : [...open, id]));
  }

  return (
    <section className="delivery-log" aria-labelledby={`delivery-log-${endpointId}`}>
      <div className="section-heading">
        <h3 id={`delivery-log-${endpointId}`}>Delivery log</h3>
        <div className="delivery-log-tools">
          <div className="field">
            <label htmlFor={`delivery-status-${endpointId}`}>Status</label>
            <select
              id={`delivery-status-${endpointId}`}
              value={status}
              onChange={(e) => setStatus(e.target.value as WebhookDeliveryStatus | '')}
            >
              <option value="">All</option>
              {webhookDeliveryStatuses.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="button-secondary" onClick={() => void load()} disabled={loading}>
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>

      {canManage && (
        <form className="resend-failed" aria-label="Resend failed deliveries" onSubmit={(e) => void resendFailed(e)}>
          <div className="field">
            <label htmlFor={`resend-since-${endpointId}`}>Resend all failed deliveries since</label>
            <input
              id={`resend-since-${endpointId}`}
              type="datetime-local"
              value={since}
              onChange={(e) => setSince(e.target.value)}
              aria-invalid={sinceError ? true : undefined}
              aria-describedby={sinceError ? `resend-since-${endpointId}-error` : undefined}
            />
            <FieldError id={`resend-since-${endpointId}-error`} message={sinceError} />
          </div>
          <button type="submit" className="button-secondary">
            Resend failed
          </button>
        </form>
      )}

      <div aria-live="polite">{message && <SuccessNotice message={message} />}</div>
      {actionError && <ErrorNotice message={actionError} />}
      {loadError && <ErrorNotice message={loadError} onRetry={() => void load()} />}
      {!page && loading && <p className="notice notice-loading">Loading deliveries…</p>}
      {page && page.deliveries.length === 0 && (
        <p className="empty">
          {status ? `No ${status} deliveries.` : 'No deliveries yet. Send a test event to see one here.'}
        </p>
      )}
      {page && page.deliveries.length > 0 && (
        <table className="delivery-table">
          <caption className="visually-hidden">Deliveries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last attempt</th>
              <th scope="col">Next attempt</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          {page.deliveries.map((delivery) => {
            const open = expanded.includes(delivery.id);
            const attemptsId = `attempts-${delivery.id}`;
            return (
              <tbody key={delivery.id} className="delivery-row" aria-label={`Delivery ${delivery.messageId}`}>
                <tr>
                  <td>
                    <code>{delivery.eventType}</code>
                    <span className="muted delivery-message-id"> {delivery.messageId}</span>
                  </td>
                  <td>
                    <span className={`badge delivery-${delivery.status}`}>{delivery.status}</span>
                  </td>
                  <td>{delivery.attemptCount}</td>
                  <td>{formatTime(delivery.lastAttemptAt)}</td>
                  <td>{delivery.status === 'pending' ? formatTime(delivery.nextAttemptAt) : '—'}</td>
                  <td>{formatTime(delivery.createdAt)}</td>
                  <td className="delivery-actions">
                    <button
                      type="button"
                      className="button-secondary"
                      aria-expanded={open}
                      aria-controls={open ? attemptsId : undefined}
                      onClick={() => toggle(delivery.id)}
                    >
                      {open ? 'Hide attempts' : 'Show attempts'}
                    </button>
                    {canManage && (
                      <button
                        type="button"
                        className="button-secondary"
                        aria-label={`${delivery.status === 'pending' ? 'Send now' : 'Resend'} ${delivery.eventType} ${delivery.messageId}`}
                        onClick={() => void resend(delivery)}
                      >
                        {delivery.status === 'pending' ? 'Send now' : 'Resend'}
                      </button>
                    )}
                  </td>
                </tr>
                {open && (
                  <tr className="delivery-attempts-row">
                    <td colSpan={7}>
                      <DeliveryAttempts
                        id={attemptsId}
                        deliveryId={delivery.id}
                        // An attempt is counted when it starts and gets its outcome later (lastAttemptAt moves).
                        version={`${delivery.attemptCount}-${delivery.status}-${delivery.lastAttemptAt ?? ''}`}
                      />
                    </td>
                  </tr>
                )}
              </tbody>
            );
          })}
        </table>
      )}
      {page?.nextCursor && (
        <div className="load-more">
          <button type="button" className="button-secondary" onClick={() => void loadMore()}>
            Load more
          </button>
        </div>
      )}
    </section>
  );
}
