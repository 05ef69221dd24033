// The in-app notification centre: the member's notifications, newest first, with what happened, when, a link to the
// ticket, marking read (one or all) and acknowledging a critical alert (which cancels its escalation). The list
// reloads whenever the live unread count moves, so a new notification appears while it is open.
import { useState } from 'react';
import { Link } from 'react-router';
import { describeError } from '../../api.ts';
import { formatTime } from '../../format.ts';
import {
  type AlertAcknowledgement,
  type AppNotification,
  acknowledgeAlert,
  listNotifications,
  markNotificationsRead,
} from '../../notifications.ts';
import { canEditTickets, useMe } from '../../session.tsx';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading } from '../Notices.tsx';
import { setUnreadCount, useOnUnreadChange } from './unread.ts';

/** A link inside the dashboard stays in the app; anything else opens as a plain link. */
function NotificationTitle({ item, onOpen }: { item: AppNotification; onOpen?: () => void }) {
  if (item.ticketId) {
    return (
      <Link to={`/tickets/${item.ticketId}`} onClick={onOpen}>
        {item.title}
      </Link>
    );
  }
  if (item.link?.startsWith('/')) {
    return (
      <Link to={item.link} onClick={onOpen}>
        {item.title}
      </Link>
    );
  }
  return <>{item.title}</>;
}

function Acknowledgement({ result }: { result: AlertAcknowledgement }) {
  const when = formatTime(result.acknowledgedAt);
  if (result.acknowledgedNow)
    return <span className="ack-done">Acknowledged {when}: its escalation is cancelled.</span>;
  return (
    <span className="ack-done">
      Already acknowledged {when}
      {result.escalated ? ' (after it had escalated)' : ''}.
    </span>
  );
}

export function NotificationCentre({ compact = false, onNavigate }: { compact?: boolean; onNavigate?: () => void }) {
  const me = useMe();
  const inbox = useLoader('notification-inbox', () => listNotifications());
  const [older, setOlder] = useState<AppNotification[]>([]);
  const [noMore, setNoMore] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [acknowledged, setAcknowledged] = useState<Record<string, AlertAcknowledgement>>({});
  const [busy, setBusy] = useState<string | null>(null);
  useOnUnreadChange(() => void inbox.reload());

  const items = [...(inbox.data?.data ?? []), ...older];
  const unread = items.filter((n) => !n.readAt).length;

  async function act(key: string, action: () => Promise<void>) {
    setBusy(key);
    setActionError(null);
    try {
      await action();
    } catch (e) {
      setActionError(describeError(e));
    } finally {
      setBusy(null);
    }
  }

  const markRead = (ids: number[] | 'all') =>
    act(ids === 'all' ? 'all' : `read-${ids.join(',')}`, async () => {
      const answer = await markNotificationsRead(ids);
      setUnreadCount(answer.unread);
      const now = new Date().toISOString();
      setOlder((list) => list.map((n) => (ids === 'all' || ids.includes(n.id) ? { ...n, readAt: now } : n)));
      await inbox.reload();
    });

  const acknowledge = (alertId: string) =>
    act(`ack-${alertId}`, async () => {
      const result = await acknowledgeAlert(alertId);
      setAcknowledged((done) => ({ ...done, [alertId]: result }));
    });

  const loadOlder = () =>
    act('older', async () => {
      const last = items.at(-1);
      if (!last) return;
      const page = await listNotifications(last.id);
      setOlder((list) => [...list, ...page.data]);
      if (page.data.length === 0) setNoMore(true);
    });

  return (
    <div className={`notification-centre${compact ? ' notification-centre-compact' : ''}`}>
      <div className="notification-centre-tools">
        <span className="muted" aria-live="polite">
          {inbox.data ? (inbox.data.unread === 0 ? 'All read' : `${inbox.data.unread} unread`) : ''}
        </span>
        <button
          type="button"
          className="button-secondary"
          disabled={unread === 0 || busy === 'all'}
          onClick={() => void markRead('all')}
        >
          Mark all read
        </button>
      </div>
      {actionError && <ErrorNotice message={actionError} />}
      {inbox.loading && !inbox.data && <Loading what="notifications" />}
      {inbox.error && <ErrorNotice message={inbox.error} onRetry={() => void inbox.reload()} />}
      {inbox.data && items.length === 0 && <p className="empty">No notifications yet.</p>}
      {items.length > 0 && (
        <ul className="notification-list" aria-label="Notifications">
          {items.map((item) => {
            const ack = item.alertId ? acknowledged[item.alertId] : undefined;
            return (
              <li
                key={item.id}
                className={`notification-item${item.readAt ? '' : ' notification-unread'}${
                  item.severity === 'critical' ? ' notification-critical' : ''
                }`}
                data-testid={`notification-${item.id}`}
              >
                <div className="notification-head">
                  {!item.readAt && (
                    <span className="unread-dot">
                      <span className="visually-hidden">Unread: </span>
                    </span>
                  )}
                  <strong className="notification-title">
                    <NotificationTitle item={item} onOpen={onNavigate} />
                  </strong>
                  {item.severity === 'critical' && <span className="badge badge-critical">Critical</span>}
                </div>
                {item.body && <p className="notification-body">{item.body}</p>}
                <div className="notification-meta">
                  <time dateTime={item.sentAt ?? item.createdAt}>{formatTime(item.sentAt ?? item.createdAt)}</time>
                  {item.ruleName && <span className="muted"> · {item.ruleName}</span>}
                </div>
                <div className="notification-actions">
                  {item.alertId &&
                    (ack ? (
                      <Acknowledgement result={ack} />
                    ) : (
                      canEditTickets(me) && (
                        <button
                          type="button"
                          disabled={busy === `ack-${item.alertId}`}
                          aria-label={`Acknowledge: ${item.title}`}
                          onClick={() => void acknowledge(item.alertId!)}
                        >
                          Acknowledge
                        </button>
                      )
                    ))}
                  {!item.readAt && (
                    <button
                      type="button"
                      className="button-secondary"
                      disabled={busy === `read-${item.id}`}
                      aria-label={`Mark read: ${item.title}`}
                      onClick={() => void markRead([item.id])}
                    >
                      Mark read
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {!compact && inbox.data && items.length >= 50 && !noMore && (
        <button type="button" className="button-secondary load-more" onClick={() => void loadOlder()}>
          Older notifications
        </button>
      )}
    </div>
  );
}
