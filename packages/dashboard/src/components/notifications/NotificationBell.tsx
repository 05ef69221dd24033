// The bell in the header: the live unread count, and the centre in a panel under it (the full page, with the fatigue
// view, is /notifications). Escape, a click outside, or following a link closes the panel.
import { useEffect, useId, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { NotificationCentre } from './NotificationCentre.tsx';
import { useUnreadCount } from './unread.ts';

export function NotificationBell() {
  const unread = useUnreadCount();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const location = useLocation();

  // biome-ignore lint/correctness/useExhaustiveDependencies: closes on every navigation
  useEffect(() => setOpen(false), [location.pathname]);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    const onClick = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('mousedown', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('mousedown', onClick);
    };
  }, [open]);

  const count = unread ?? 0;
  return (
    <div className="notification-bell" ref={root}>
      <button
        type="button"
        className="bell-button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={count === 1 ? 'Notifications, 1 unread' : `Notifications, ${count} unread`}
        onClick={() => setOpen((o) => !o)}
      >
        <svg aria-hidden="true" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor">
          <path
            strokeWidth="2"
            strokeLinecap="round"
            strokeLinejoin="round"
            d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.7 21a2 2 0 0 1-3.4 0"
          />
        </svg>
        {count > 0 && (
          <span className="bell-count" data-testid="unread-count">
            {count > 99 ? '99+' : count}
          </span>
        )}
      </button>
      {open && (
        <section id={panelId} className="bell-panel" aria-label="Notification centre">
          <div className="bell-panel-heading">
            <h2>Notifications</h2>
            <Link to="/notifications">Open the centre</Link>
            <Link to="/settings/notifications">Preferences</Link>
          </div>
          <NotificationCentre compact onNavigate={() => setOpen(false)} />
        </section>
      )}
    </div>
  );
}
