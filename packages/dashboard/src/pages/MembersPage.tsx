// Who is in the organisation. Everyone sees the list; admins invite people, change roles, remove members and
// revoke invitations. The API keeps the last admin (a 409 that says so, shown here as it comes).
import { useId, useState } from 'react';
import {
  changeMemberRole,
  describeError,
  listInvitations,
  listMembers,
  type Member,
  type Role,
  removeMember,
} from '../api.ts';
import { InviteForm, roles } from '../components/members/InviteForm.tsx';
import { PendingInvitations } from '../components/members/PendingInvitations.tsx';
import { ErrorNotice, Loading, SuccessNotice } from '../components/Notices.tsx';
import { formatTime } from '../format.ts';
import { canManageMembers, useMe, useSession } from '../session.tsx';
import { useLoader } from '../useLoader.ts';
import { usePageTitle } from '../usePageTitle.ts';

export function MembersPage() {
  usePageTitle('Members');
  const me = useMe();
  const admin = canManageMembers(me);
  const members = useLoader('members-page', async () => (await listMembers()).data);
  // Below admin the API refuses the list of invitations: do not ask.
  const invitations = useLoader(`invitations-${admin}`, async () => (admin ? (await listInvitations()).data : []));

  return (
    <>
      <div className="page-heading">
        <h1>Members</h1>
      </div>
      {admin && <InviteForm onInvited={() => void invitations.reload()} />}
      <MemberTable
        members={members.data}
        loading={members.loading}
        error={members.error}
        reload={members.reload}
        manage={admin}
        myUserId={me.user.id}
      />
      {admin && <PendingInvitations invitations={invitations} />}
    </>
  );
}

type TableProps = {
  members: Member[] | undefined;
  loading: boolean;
  error: string | null;
  reload: () => Promise<void>;
  manage: boolean;
  myUserId: string;
};

function MemberTable({ members, loading, error, reload, manage, myUserId }: TableProps) {
  const id = useId();
  const { refresh } = useSession();
  const [actionError, setActionError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function act(member: Member, run: () => Promise<string>) {
    setBusy(member.userId);
    setActionError(null);
    setMessage(null);
    try {
      const done = await run();
      // The list first, then the message: what it says is already what the table shows.
      await reload();
      setMessage(done);
      setConfirming(null);
      // A change to oneself changes what this session may do.
      if (member.userId === myUserId) await refresh();
    } catch (e) {
      setActionError(describeError(e));
      await reload();
    } finally {
      setBusy(null);
    }
  }

  const label = (m: Member) => m.name || m.email;
  const changeRole = (member: Member, role: Role) =>
    act(member, async () => {
      await changeMemberRole(member.userId, role);
      return `${label(member)} is now ${role === 'admin' ? 'an' : 'a'} ${role}.`;
    });
  const remove = (member: Member) =>
    act(member, async () => {
      await removeMember(member.userId);
      return `${label(member)} was removed from the organisation.`;
    });

  return (
    <section aria-labelledby={`${id}-title`}>
      <div className="section-heading">
        <h2 id={`${id}-title`}>People</h2>
      </div>
      {loading && !members && <Loading what="members" />}
      {error && <ErrorNotice message={error} onRetry={() => void reload()} />}
      {actionError && <ErrorNotice message={actionError} />}
      <div aria-live="polite">{message && <SuccessNotice message={message} />}</div>
      {members && (
        <table className="ticket-table member-table" aria-label="Members">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              {manage && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {members.map((member) => (
              <tr key={member.userId}>
                <td>
                  {member.name}
                  {member.userId === myUserId && <span className="muted"> (you)</span>}
                </td>
                <td>{member.email}</td>
                <td>
                  {manage ? (
                    <select
                      aria-label={`Role of ${label(member)}`}
                      value={member.role}
                      disabled={busy === member.userId}
                      onChange={(e) => void changeRole(member, e.target.value as Role)}
                    >
                      {roles.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  ) : (
                    member.role
                  )}
                </td>
                <td>{formatTime(member.joinedAt)}</td>
                {manage && (
                  <td>
                    {confirming === member.userId ? (
                      <span className="confirm-delete">
                        <span>Remove {label(member)}?</span>
                        <button
                          type="button"
                          className="button-danger"
                          disabled={busy === member.userId}
                          onClick={() => void remove(member)}
                        >
                          Confirm removal
                        </button>
                        <button type="button" className="button-secondary" onClick={() => setConfirming(null)}>
                          Cancel
                        </button>
                      </span>
                    ) : (
                      <button
                        type="button"
                        className="button-secondary"
                        aria-label={`Remove ${label(member)}`}
                        onClick={() => setConfirming(member.userId)}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
