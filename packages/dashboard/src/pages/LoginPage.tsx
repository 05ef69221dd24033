// Signing in with email and password (better-auth sets the session cookie), then reading who we are.
import { type FormEvent, useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { describeError, signIn } from '../api.ts';
import { ErrorNotice, Loading } from '../components/Notices.tsx';
import { useSession } from '../session.tsx';
import { usePageTitle } from '../usePageTitle.ts';

/** Only paths inside the dashboard: a `next` pointing elsewhere would make the login page an open redirect. */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/tickets';
}

export function LoginPage() {
  const { state, refresh } = useSession();
  usePageTitle('Sign in');
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (state.status === 'signed-in') return <Navigate to={next} replace />;

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      await signIn(email, password);
      const session = await refresh();
      if (session.status === 'signed-in') navigate(next, { replace: true });
      else if (session.status === 'error') setError(session.message);
      else setError('Signed in, but the API did not recognise the session. Are cookies enabled?');
    } catch (e) {
      setError(describeError(e));
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <main className="centered">
      <form className="card login-card" onSubmit={(e) => void handleSubmit(e)} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Switchboard</h1>
        {state.status === 'loading' && <Loading what="your session" />}
        <div className="field">
          <label htmlFor="login-email">Email</label>
          <input
            id="login-email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="login-password">Password</label>
          <input
            id="login-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        {error && <ErrorNotice message={error} />}
        <button type="submit" disabled={submitting}>
          {submitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
