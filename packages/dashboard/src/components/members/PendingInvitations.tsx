// Invitations nobody has answered yet (admins): who, with which role, until when; revoking one stops its link.
import { useId, useState } from 'react';
import { describeError, type Invitation, revokeInvitation } from '../../api.ts';
import { formatTime } from '../../format.ts';
import type { Loaded } from '../../useLoader.ts';
import { ErrorNotice, Loading, SuccessNotice } from '../Notices.tsx';

export function PendingInvitations({ invitations }: { invitations: Loaded<Invitation[]> }) {
  const id = useId();
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function revoke(invitation: Invitation) {
    setBusy(invitation.id);
    setError(null);
    setMessage(null);
    try {
      await revokeInvitation(invitation.id);
      await invitations.reload();
      setMessage(`Invitation for ${invitation.email} revoked: its link no longer works.`);
    } catch (e) {
      setError(describeError(e));
      await invitations.reload();
    } finally {
      setBusy(null);
    }
  }

  const rows = invitations.data ?? [];
  return (
    <section aria-labelledby={`${id}-title`}>
      <div className="section-heading">
        <h2 id={`${id}-title`}>Pending invitations</h2>
      </div>
      {invitations.loading && !invitations.data && <Loading what="invitations" />}
      {invitations.error && <ErrorNotice message={invitations.error} onRetry={() => void invitations.reload()} />}
      {error && <ErrorNotice message={error} />}
      <div aria-live="polite">{message && <SuccessNotice message={message} />}</div>
      {invitations.data && rows.length === 0 && <p className="empty">No pending invitations.</p>}
      {rows.length > 0 && (
        <table className="ticket-table" aria-label="Pending invitations">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Invited by</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((invitation) => (
              <tr key={invitation.id}>
                <td>{invitation.email}</td>
                <td>{invitation.role}</td>
                <td>{invitation.invitedBy?.name ?? '—'}</td>
                <td>
                  {invitation.status === 'expired' ? (
                    <span className="badge badge-inactive">Expired {formatTime(invitation.expiresAt)}</span>
                  ) : (
                    formatTime(invitation.expiresAt)
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="button-secondary"
                    aria-label={`Revoke the invitation for ${invitation.email}`}
                    disabled={busy === invitation.id}
                    onClick={() => void revoke(invitation)}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
