// Who a rule (or its escalation) tells: the assignee (optionally the team while nobody has the ticket), everyone of a
// role, specific members, the whole team, a Slack channel of a connected workspace, or the ticket's requester.
import { useId } from 'react';
import {
  listSlackChannels,
  listSlackInstallations,
  type Member,
  memberRoles,
  type Role,
  type SlackInstallation,
} from '../../api.ts';
import type { NotificationRecipient } from '../../notifications.ts';
import { useLoader } from '../../useLoader.ts';
import { FieldError } from '../Notices.tsx';
import type { FieldErrors } from './ruleDraft.ts';

type RecipientType = NotificationRecipient['type'];

const typeLabels: Record<RecipientType, string> = {
  assignee: 'The assignee',
  role: 'Everyone with a role',
  user: 'A specific member',
  team: 'The team (admins and agents)',
  slack_channel: 'A Slack channel',
  requester: 'The requester (by email)',
};

const roles: readonly Role[] = memberRoles;

function fresh(type: RecipientType, members: Member[], workspaces: SlackInstallation[]): NotificationRecipient {
  switch (type) {
    case 'assignee':
      return { type };
    case 'role':
      return { type, role: 'admin' };
    case 'user':
      return { type, userId: members[0]?.userId ?? '' };
    case 'team':
      return { type };
    case 'slack_channel':
      return { type, integrationId: workspaces[0]?.integrationId ?? '', channelId: '' };
    case 'requester':
      return { type };
  }
}

function SlackChannelPicker({
  id,
  integrationId,
  channelId,
  onChange,
  invalid,
}: {
  id: string;
  integrationId: string;
  channelId: string;
  onChange: (channelId: string) => void;
  invalid: boolean;
}) {
  const channels = useLoader(`slack-channels-${integrationId}`, async () =>
    integrationId ? (await listSlackChannels(integrationId)).data : [],
  );
  // Without the workspace's list (Slack unreachable), the channel id can still be typed.
  if (channels.error || !channels.data || channels.data.length === 0) {
    return (
      <input
        id={id}
        value={channelId}
        placeholder="C0123456789"
        onChange={(e) => onChange(e.target.value.trim())}
        aria-invalid={invalid || undefined}
      />
    );
  }
  return (
    <select id={id} value={channelId} onChange={(e) => onChange(e.target.value)} aria-invalid={invalid || undefined}>
      <option value="">Choose a channel…</option>
      {channels.data.map((c) => (
        <option key={c.id} value={c.id}>
          {c.isPrivate ? '🔒' : '#'}
          {c.name}
          {c.isMember ? '' : ' (invite the app first)'}
        </option>
      ))}
    </select>
  );
}

export function RecipientsEditor({
  label,
  path,
  recipients,
  onChange,
  members,
  errors,
}: {
  label: string;
  /** Where the API's errors about this list are: "recipients" or "escalation.recipients". */
  path: string;
  recipients: NotificationRecipient[];
  onChange: (recipients: NotificationRecipient[]) => void;
  members: Member[];
  errors: FieldErrors;
}) {
  const idPrefix = useId();
  const workspaces = useLoader('slack-installations', async () => (await listSlackInstallations()).data);
  const connected = (workspaces.data ?? []).filter((w) => w.connected);

  const update = (index: number, recipient: NotificationRecipient) =>
    onChange(recipients.map((r, i) => (i === index ? recipient : r)));

  const ownError = errors.exact(path);
  return (
    <fieldset className="recipients-editor" aria-describedby={ownError ? `${idPrefix}-error` : undefined}>
      <legend>{label}</legend>
      <ol className="recipient-list">
        {recipients.map((recipient, index) => {
          const at = `${path}.${index}`;
          const rowId = `${idPrefix}-${index}`;
          const problem = errors.at(at);
          return (
            // Recipients are positional: the API's errors name them by index.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            <li key={index} className="recipient-row">
              <div className="field">
                <label htmlFor={`${rowId}-type`}>Recipient {index + 1}</label>
                <select
                  id={`${rowId}-type`}
                  value={recipient.type}
                  aria-invalid={problem ? true : undefined}
                  onChange={(e) => update(index, fresh(e.target.value as RecipientType, members, connected))}
                >
                  {(Object.keys(typeLabels) as RecipientType[]).map((t) => (
                    <option key={t} value={t}>
                      {typeLabels[t]}
                    </option>
                  ))}
                </select>
              </div>
              {recipient.type === 'assignee' && (
                <div className="field field-checkbox">
                  <input
                    id={`${rowId}-team`}
                    type="checkbox"
                    checked={recipient.whenUnassigned === 'team'}
                    onChange={(e) =>
                      update(
                        index,
                        e.target.checked ? { type: 'assignee', whenUnassigned: 'team' } : { type: 'assignee' },
                      )
                    }
                  />
                  <label htmlFor={`${rowId}-team`}>The team while unassigned</label>
                </div>
              )}
              {recipient.type === 'role' && (
                <div className="field">
                  <label htmlFor={`${rowId}-role`}>Role</label>
                  <select
                    id={`${rowId}-role`}
                    value={recipient.role}
                    onChange={(e) => update(index, { type: 'role', role: e.target.value as Role })}
                  >
                    {roles.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </div>
              )}
              {recipient.type === 'user' && (
                <div className="field">
                  <label htmlFor={`${rowId}-user`}>Member</label>
                  <select
                    id={`${rowId}-user`}
                    value={recipient.userId}
                    aria-invalid={errors.at(`${at}.userId`) ? true : undefined}
                    onChange={(e) => update(index, { type: 'user', userId: e.target.value })}
                  >
                    {!members.some((m) => m.userId === recipient.userId) && (
                      <option value={recipient.userId}>{recipient.userId || 'Choose a member…'}</option>
                    )}
                    {members.map((m) => (
                      <option key={m.userId} value={m.userId}>
                        {m.name || m.email} ({m.role})
                      </option>
                    ))}
                  </select>
                </div>
              )}
              {recipient.type === 'slack_channel' && (
                <>
                  <div className="field">
                    <label htmlFor={`${rowId}-workspace`}>Workspace</label>
                    <select
                      id={`${rowId}-workspace`}
                      value={recipient.integrationId}
                      aria-invalid={errors.at(`${at}.integrationId`) ? true : undefined}
                      onChange={(e) =>
                        update(index, { type: 'slack_channel', integrationId: e.target.value, channelId: '' })
                      }
                    >
                      {!connected.some((w) => w.integrationId === recipient.integrationId) && (
                        <option value={recipient.integrationId}>
                          {connected.length ? 'Choose a workspace…' : 'No Slack workspace is connected'}
                        </option>
                      )}
                      {connected.map((w) => (
                        <option key={w.integrationId} value={w.integrationId}>
                          {w.teamName}
                        </option>
                      ))}
                    </select>
                  </div>
                  <div className="field">
                    <label htmlFor={`${rowId}-channel`}>Channel</label>
                    <SlackChannelPicker
                      id={`${rowId}-channel`}
                      integrationId={recipient.integrationId}
                      channelId={recipient.channelId}
                      invalid={!!errors.at(`${at}.channelId`)}
                      onChange={(channelId) => update(index, { ...recipient, channelId })}
                    />
                  </div>
                </>
              )}
              {recipient.type === 'requester' && (
                <p className="hint">By email only, and never for internal events (comments, SLA, attachments).</p>
              )}
              <button
                type="button"
                className="button-secondary"
                aria-label={`Remove recipient ${index + 1}`}
                onClick={() => onChange(recipients.filter((_, i) => i !== index))}
              >
                Remove
              </button>
              <FieldError id={`${rowId}-error`} message={problem} />
            </li>
          );
        })}
      </ol>
      <button
        type="button"
        className="button-secondary"
        onClick={() => onChange([...recipients, fresh('user', members, connected)])}
      >
        Add recipient
      </button>
      <FieldError id={`${idPrefix}-error`} message={ownError} />
    </fieldset>
  );
}
