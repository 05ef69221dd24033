// /notifications: the notification centre, and the fatigue view (what was held back, and why) as its second tab.
// The tab is in the URL (?view=held-back) so it can be linked.
import { Link, useSearchParams } from 'react-router';
import { HeldBackList } from '../components/notifications/HeldBackList.tsx';
import { NotificationCentre } from '../components/notifications/NotificationCentre.tsx';
import { usePageTitle } from '../usePageTitle.ts';

const views = [
  { key: 'inbox', label: 'Inbox' },
  { key: 'held-back', label: 'Held back' },
] as const;

export function NotificationsPage() {
  usePageTitle('Notifications');
  const [params, setParams] = useSearchParams();
  const view = params.get('view') === 'held-back' ? 'held-back' : 'inbox';
  return (
    <section aria-labelledby="notifications-title" className="notifications-page">
      <div className="page-heading">
        <h1 id="notifications-title">Notifications</h1>
        <Link to="/settings/notifications">Preferences</Link>
      </div>
      <div className="tabs" role="tablist" aria-label="Which notifications">
        {views.map((v) => (
          <button
            key={v.key}
            type="button"
            role="tab"
            id={`notifications-tab-${v.key}`}
            aria-selected={view === v.key}
            aria-controls={`notifications-panel-${v.key}`}
            className={view === v.key ? 'tab tab-selected' : 'tab'}
            onClick={() => setParams(v.key === 'inbox' ? {} : { view: v.key })}
          >
            {v.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`notifications-panel-${view}`} aria-labelledby={`notifications-tab-${view}`}>
        {view === 'inbox' ? <NotificationCentre /> : <HeldBackList />}
      </div>
    </section>
  );
}
