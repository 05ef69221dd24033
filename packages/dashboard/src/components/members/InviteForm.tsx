// Inviting someone (admins): an email address and a role give a link that works once, until it expires. The link
// is shown here once; Switchboard sends no email yet, so the admin passes it on themselves.

import { type FormEvent, useId, useState } from 'react';
import { memberRoles } from '../../../../../common/enums.ts';
import {
  ApiError,
  type CreatedInvitation,
  createInvitation,
  describeError,
  type ErrorDetail,
  type Role,
} from '../../api.ts';
import { formatTime } from '../../format.ts';
import { CopyField } from '../CopyField.tsx';
import { ErrorNotice } from '../Notices.tsx';

const roleHints: Record<Role, string> = {
  admin: 'everything, including members, integrations and API keys',
  agent: 'works tickets: creates, updates, comments',
  viewer: 'reads tickets and settings, changes nothing',
};

export const roles: readonly Role[] = memberRoles;

export function InviteForm({ onInvited }: { onInvited: () => void }) {
  const id = useId();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<{ message: string; details: ErrorDetail[] } | null>(null);
  const [created, setCreated] = useState<CreatedInvitation | null>(null);

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      setCreated(await createInvitation(email.trim(), role));
      setEmail('');
      onInvited();
    } catch (e) {
      setError({ message: describeError(e), details: e instanceof ApiError ? e.details : [] });
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Invite someone</h2>
      {created ? (
        <InvitationLink invitation={created} onDone={() => setCreated(null)} />
      ) : (
        <form aria-label="Invite someone" onSubmit={(e) => void handleSubmit(e)}>
          <div className="form-grid">
            <div className="field">
              <label htmlFor={`${id}-email`}>Email</label>
              <input
                id={`${id}-email`}
                type="email"
                required
                autoComplete="off"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor={`${id}-role`}>Role</label>
              <select
                id={`${id}-role`}
                value={role}
                onChange={(e) => setRole(e.target.value as Role)}
                aria-describedby={`${id}-role-hint`}
              >
                {roles.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              <span id={`${id}-role-hint`} className="hint">
                {roleHints[role]}
              </span>
            </div>
          </div>
          {error && <ErrorNotice message={error.message} details={error.details} />}
          <div className="form-actions">
            <button type="submit" disabled={submitting}>
              {submitting ? 'Creating…' : 'Create invitation link'}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

/** The link, once, to copy (CopyField). */
function InvitationLink({ invitation, onDone }: { invitation: CreatedInvitation; onDone: () => void }) {
  const id = useId();
  return (
    <div className="secret-reveal">
      <p className="secret-warning">
        Invitation for <strong>{invitation.email}</strong> as {invitation.role}, valid until{' '}
        {formatTime(invitation.expiresAt)}. Switchboard does not send email yet:{' '}
        <strong>send this link to them yourself, now — you won't see it again.</strong> It works once.
      </p>
      <CopyField id={`${id}-link`} label="Invitation link" value={invitation.url} noun="link" />
      <div className="form-actions">
        <button type="button" className="button-secondary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
