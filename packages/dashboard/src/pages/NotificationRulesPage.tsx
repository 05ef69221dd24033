// /settings/notifications/rules: the organisation's notification rules, their editor and its live preview.
import { Link } from 'react-router';
import { NotificationRulesManager } from '../components/notifications/NotificationRulesManager.tsx';
import { usePageTitle } from '../usePageTitle.ts';

export function NotificationRulesPage() {
  usePageTitle('Notification rules');
  return (
    <section aria-labelledby="notification-rules-title" className="notification-rules-page">
      <div className="page-heading">
        <h1 id="notification-rules-title">Notifications</h1>
        <Link to="/settings/notifications">Your preferences</Link>
        <Link to="/settings/integrations">All integrations</Link>
      </div>
      <NotificationRulesManager />
    </section>
  );
}
