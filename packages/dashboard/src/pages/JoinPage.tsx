// Where an invitation link lands (/join#<token>). The token is in the fragment, which the browser never sends to a
// server: the page reads it and posts it to the API. A new address chooses a name and password; an address that
// already has an account signs in as it; either way the person ends up in the organisation that invited them.
import { type FormEvent, useId, useState } from 'react';
import { useNavigate } from 'react-router';
import {
  ApiError,
  acceptInvitation,
  describeError,
  type ErrorDetail,
  type InvitationPreview,
  previewInvitation,
  signIn,
} from '../api.ts';
import { ErrorNotice, Loading } from '../components/Notices.tsx';
import { formatTime } from '../format.ts';
import { useSession } from '../session.tsx';
import { useLoader } from '../useLoader.ts';
import { usePageTitle } from '../usePageTitle.ts';

const MIN_PASSWORD = 10;

export function JoinPage() {
  usePageTitle('Join');
  const token = window.location.hash.replace(/^#/, '');
  // Without a token there is nothing to ask the API: the page says the link is incomplete.
  const preview = useLoader(`invitation-${token}`, async () => (token ? previewInvitation(token) : undefined));

  return (
    <main className="centered">
      <section className="card login-card" aria-labelledby="join-title">
        {!token ? (
          <>
            <h1 id="join-title">Join Switchboard</h1>
            <ErrorNotice message="This invitation link is incomplete: copy the whole link you were sent." />
          </>
        ) : preview.data ? (
          <JoinForm token={token} invitation={preview.data} />
        ) : (
          <>
            <h1 id="join-title">Join Switchboard</h1>
            {preview.loading && <Loading what="your invitation" />}
            {preview.error && <ErrorNotice message={preview.error} />}
          </>
        )}
      </section>
    </main>
  );
}

function JoinForm({ token, invitation }: { token: string; invitation: InvitationPreview }) {
  const id = useId();
  const navigate = useNavigate();
  const { state, refresh } = useSession();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<{ message: string; details: ErrorDetail[] } | null>(null);
  const signedInAsInvitee =
    state.status === 'signed-in' && state.me.user.email.toLowerCase() === invitation.email.toLowerCase();
  const org = invitation.organization.name;

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    if (!invitation.accountExists && password !== confirm) {
      setError({ message: 'The two passwords differ: type the same password twice.', details: [] });
      return;
    }
    setSubmitting(true);
    try {
      if (!invitation.accountExists) {
        await acceptInvitation(token, { name: name.trim(), password });
      } else {
        if (!signedInAsInvitee) await signIn(invitation.email, password);
        await acceptInvitation(token);
      }
      const session = await refresh();
      if (session.status === 'signed-in') navigate('/tickets', { replace: true });
      else setError({ message: 'You joined, but the session was not recognised: sign in again.', details: [] });
    } catch (e) {
      setError({ message: describeError(e), details: e instanceof ApiError ? e.details : [] });
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <form onSubmit={(e) => void handleSubmit(e)} aria-labelledby="join-title">
      <h1 id="join-title">Join {org}</h1>
      <p>
        {invitation.invitedBy || 'An admin'} invited <strong>{invitation.email}</strong> to join <strong>{org}</strong>{' '}
        as {invitation.role === 'admin' ? 'an' : 'a'} <strong>{invitation.role}</strong>. The link works until{' '}
        {formatTime(invitation.expiresAt)}.
      </p>
      {invitation.accountExists ? (
        signedInAsInvitee ? (
          <p className="hint">You are signed in as {invitation.email}.</p>
        ) : (
          <>
            <p className="hint">
              {invitation.email} already has a Switchboard account: sign in to join
              {state.status === 'signed-in'
                ? ` (you are signed in as ${state.me.user.email}; this switches account)`
                : ''}
              .
            </p>
            <div className="field">
              <label htmlFor={`${id}-password`}>Password</label>
              <input
                id={`${id}-password`}
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </div>
          </>
        )
      ) : (
        <>
          <div className="field">
            <label htmlFor={`${id}-email`}>Email</label>
            <input id={`${id}-email`} type="email" readOnly value={invitation.email} autoComplete="username" />
          </div>
          <div className="field">
            <label htmlFor={`${id}-name`}>Your name</label>
            <input
              id={`${id}-name`}
              required
              maxLength={100}
              autoComplete="name"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>Choose a password</label>
            <input
              id={`${id}-password`}
              type="password"
              autoComplete="new-password"
              required
              minLength={MIN_PASSWORD}
              aria-describedby={`${id}-password-hint`}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <span id={`${id}-password-hint`} className="hint">
              At least {MIN_PASSWORD} characters.
            </span>
          </div>
          <div className="field">
            <label htmlFor={`${id}-confirm`}>Repeat the password</label>
            <input
              id={`${id}-confirm`}
              type="password"
              autoComplete="new-password"
              required
              value={confirm}
              onChange={(e) => setConfirm(e.target.value)}
            />
          </div>
        </>
      )}
      {error && <ErrorNotice message={error.message} details={error.details} />}
      <button type="submit" disabled={submitting}>
        {submitting
          ? 'Joining…'
          : invitation.accountExists && !signedInAsInvitee
            ? `Sign in and join ${org}`
            : invitation.accountExists
              ? `Join ${org}`
              : `Create account and join ${org}`}
      </button>
    </form>
  );
}
