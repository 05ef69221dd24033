// /settings/notifications: the signed-in member's own notification preferences (and, for admins, the way to the
// organisation's rules).
import { Link } from 'react-router';
import { NotificationPreferencesForm } from '../components/notifications/NotificationPreferencesForm.tsx';
import { canManageIntegrations, useMe } from '../session.tsx';
import { usePageTitle } from '../usePageTitle.ts';

export function NotificationPreferencesPage() {
  usePageTitle('Notification preferences');
  const me = useMe();
  return (
    <section aria-labelledby="preferences-title" className="notification-preferences-page">
      <div className="page-heading">
        <h1 id="preferences-title">Notification preferences</h1>
        <Link to="/notifications">Notification centre</Link>
        <Link to="/settings/notifications/rules">{canManageIntegrations(me) ? 'Notification rules' : 'The rules'}</Link>
      </div>
      <p className="muted">
        The organisation’s rules decide who is told of what; these settings decide how you hear of it.
      </p>
      <NotificationPreferencesForm />
    </section>
  );
}
