// Who is signed in: loaded once from GET /api/me, refreshed after signing in, cleared after signing out.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, signOut as apiSignOut, describeError, getMe, type Me, whenUnauthenticated } from './api.ts';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out' }
  | { status: 'signed-in'; me: Me }
  | { status: 'error'; message: string };

type SessionValue = {
  state: SessionState;
  /** Reads /api/me again (after signing in); a 401 means signed out. */
  refresh: () => Promise<SessionState>;
  signOut: () => Promise<void>;
};

const SessionContext = createContext<SessionValue | null>(null);

async function loadSession(): Promise<SessionState> {
  try {
    return { status: 'signed-in', me: await getMe() };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return { status: 'signed-out' };
    return { status: 'error', message: describeError(error) };
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const refresh = useCallback(async () => {
    const next = await loadSession();
    setState(next);
    return next;
  }, []);

  const signOut = useCallback(async () => {
    await apiSignOut();
    setState({ status: 'signed-out' });
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(() => {
    whenUnauthenticated(() => setState({ status: 'signed-out' }));
    return () => whenUnauthenticated(null);
  }, []);

  const value = useMemo(() => ({ state, refresh, signOut }), [state, refresh, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession needs a SessionProvider above it');
  return value;
}

/** The signed-in user; only for pages rendered inside RequireSession. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe used outside a signed-in page');
  return state.me;
}

export function canEditTickets(me: Me): boolean {
  return me.role === 'agent' || me.role === 'admin';
}

export function canManageIntegrations(me: Me): boolean {
  return me.role === 'admin';
}

export function canManageMembers(me: Me): boolean {
  return me.role === 'admin';
}
