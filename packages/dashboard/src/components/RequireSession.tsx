// Sends visitors without a session to the login page, remembering where they were going.
import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useSession } from '../session.tsx';
import { ErrorNotice, Loading } from './Notices.tsx';

export function RequireSession({ children }: { children: ReactNode }) {
  const { state, refresh } = useSession();
  const location = useLocation();
  if (state.status === 'loading') {
    return (
      <main className="centered">
        <Loading what="your session" />
      </main>
    );
  }
  if (state.status === 'error') {
    return (
      <main className="centered">
        <ErrorNotice message={state.message} onRetry={() => void refresh()} />
      </main>
    );
  }
  if (state.status === 'signed-out') {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}
