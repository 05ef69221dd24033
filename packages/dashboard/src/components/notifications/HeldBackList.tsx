// The fatigue view: every notification for this member that did not reach them at once, on any channel, with what
// became of it (suppressed, throttled, deferred until when, gathered into a digest, failed), the reason the engine
// recorded, and the rule that made it. So nobody has to guess why they did not hear of something.
import { Link } from 'react-router';
import { formatTime, humanize } from '../../format.ts';
import { type AppNotification, channelLabels, listHeldBack } from '../../notifications.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading } from '../Notices.tsx';
import { useOnUnreadChange } from './unread.ts';

const statusLabels: Partial<Record<AppNotification['status'], string>> = {
  suppressed: 'Suppressed',
  throttled: 'Throttled',
  deferred: 'Deferred',
  digested: 'In a digest',
  failed: 'Failed',
  pending: 'Pending',
};

function Outcome({ item }: { item: AppNotification }) {
  const label = statusLabels[item.status] ?? humanize(item.status);
  return (
    <>
      <span className={`badge held-${item.status}`}>{label}</span>
      {item.status === 'deferred' && item.deliverAfter && (
        <div className="muted">until {formatTime(item.deliverAfter)}</div>
      )}
      {item.status === 'digested' && item.deliverAfter && (
        <div className="muted">digest at {formatTime(item.deliverAfter)}</div>
      )}
    </>
  );
}

export function HeldBackList() {
  const held = useLoader('notifications-held-back', async () => (await listHeldBack()).data);
  useOnUnreadChange(() => void held.reload());
  return (
    <section aria-labelledby="held-back-title" className="held-back">
      <div className="section-heading">
        <h2 id="held-back-title">Held back</h2>
        <button type="button" className="button-secondary" onClick={() => void held.reload()}>
          Refresh
        </button>
      </div>
      <p className="muted">
        What did not reach you at once, and why: your preferences, quiet hours, a digest, a rule’s throttle, or your own
        change.
      </p>
      {held.loading && !held.data && <Loading what="held-back notifications" />}
      {held.error && <ErrorNotice message={held.error} onRetry={() => void held.reload()} />}
      {held.data && held.data.length === 0 && <p className="empty">Nothing was held back.</p>}
      {held.data && held.data.length > 0 && (
        <div className="table-scroll">
          <table className="held-back-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Notification</th>
                <th scope="col">Channel</th>
                <th scope="col">What became of it</th>
                <th scope="col">Why</th>
                <th scope="col">Rule</th>
              </tr>
            </thead>
            <tbody>
              {held.data.map((item) => (
                <tr key={item.id} data-testid={`held-${item.id}`} className={`held-row held-row-${item.status}`}>
                  <td>{formatTime(item.createdAt)}</td>
                  <td>
                    {item.ticketId ? <Link to={`/tickets/${item.ticketId}`}>{item.title}</Link> : item.title}
                    <div className="muted">{item.eventType}</div>
                  </td>
                  <td>{channelLabels[item.channel]}</td>
                  <td>
                    <Outcome item={item} />
                  </td>
                  <td className="held-reason">{item.reason ?? '—'}</td>
                  <td>{item.ruleName ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
