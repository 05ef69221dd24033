// The frame around every signed-in page: navigation, who is signed in, and signing out.
import { useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { describeError } from '../api.ts';
import { humanize } from '../format.ts';
import { canEditTickets, useMe, useSession } from '../session.tsx';
import { NotificationBell } from './notifications/NotificationBell.tsx';

export function Layout() {
  const me = useMe();
  const { signOut } = useSession();
  const navigate = useNavigate();
  const [signOutError, setSignOutError] = useState<string | null>(null);

  async function handleSignOut() {
    setSignOutError(null);
    try {
      await signOut();
      navigate('/login');
    } catch (error) {
      setSignOutError(describeError(error));
    }
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">Switchboard</span>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/tickets" end>
                Tickets
              </NavLink>
            </li>
            {canEditTickets(me) && (
              <li>
                <NavLink to="/tickets/new">New ticket</NavLink>
              </li>
            )}
            {canEditTickets(me) && (
              <li>
                <NavLink to="/email/held">Held mail</NavLink>
              </li>
            )}
            <li>
              <NavLink to="/settings/integrations">Integrations</NavLink>
            </li>
            <li>
              <NavLink to="/settings/members">Members</NavLink>
            </li>
            <li>
              <NavLink to="/settings/notifications">Notifications</NavLink>
            </li>
          </ul>
        </nav>
        <section className="account" aria-label="Signed-in user">
          <NotificationBell />
          <span className="account-name">{me.user.name || me.user.email}</span>
          <span className="account-org">
            {me.organization.name} · <span className="role">{humanize(me.role)}</span>
          </span>
          <button type="button" className="button-secondary" onClick={() => void handleSignOut()}>
            Sign out
          </button>
        </section>
      </header>
      {signOutError && (
        <p className="notice notice-error" role="alert">
          Could not sign out: {signOutError}
        </p>
      )}
      <main id="main" className="page">
        <Outlet />
      </main>
    </>
  );
}
