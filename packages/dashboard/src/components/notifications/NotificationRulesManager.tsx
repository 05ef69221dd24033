// The organisation's notification rules: the list (defaults marked; each switched on or off; defaults cannot be
// deleted), and the editor with its live preview. It is the notifications module's setup component: notifications
// are configured by these rules, not by an integration row, so in Integration settings it stands in for the
// generic form (as WebhookManager does for webhooks). On its own it is the page /settings/notifications/rules.

import { useState } from 'react';
import { Link } from 'react-router';
import { describeError } from '../../api.ts';
import { memberName } from '../../format.ts';
import { useMembers } from '../../members.ts';
import {
  channelLabels,
  createNotificationRule,
  deleteNotificationRule,
  listNotificationRules,
  type NotificationRule,
  updateNotificationRule,
} from '../../notifications.ts';
import { canManageIntegrations, useMe } from '../../session.tsx';
import { useLoader } from '../../useLoader.ts';
import { ConfirmDelete } from '../ConfirmDelete.tsx';
import type { IntegrationSetupProps } from '../integrations/setupComponents.ts';
import { ErrorNotice, Loading, SuccessNotice } from '../Notices.tsx';
import { RuleEditor } from './RuleEditor.tsx';
import { describeDelivery, describeRecipients, draftOf, emptyDraft } from './ruleDraft.ts';

export const NOTIFICATION_RULES_PAGE = '/settings/notifications/rules';

type Editing = { mode: 'new' } | { mode: 'edit'; rule: NotificationRule } | null;

function RulesManager({ onClose }: { onClose?: () => void }) {
  const me = useMe();
  const canManage = canManageIntegrations(me);
  const rules = useLoader('notification-rules', async () => (await listNotificationRules()).data);
  const members = useMembers();
  const [editing, setEditing] = useState<Editing>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [confirmingDelete, setConfirmingDelete] = useState<string | null>(null);
  // A switch moves at once; it goes back if the change is refused.
  const [switching, setSwitching] = useState<Record<string, boolean>>({});
  const nameOf = (userId: string) => memberName(members.data, userId);

  async function run(action: () => Promise<unknown>, success: string) {
    setActionError(null);
    setMessage(null);
    try {
      await action();
      await rules.reload();
      setMessage(success);
    } catch (e) {
      setActionError(describeError(e));
    }
  }

  if (editing && members.data) {
    const isDefault = editing.mode === 'edit' && editing.rule.defaultKey !== null;
    return (
      <section aria-labelledby="rule-editor-title" className="rules-manager">
        <h2 id="rule-editor-title">{editing.mode === 'new' ? 'New rule' : `Edit ${editing.rule.name}`}</h2>
        <RuleEditor
          initial={editing.mode === 'new' ? emptyDraft() : draftOf(editing.rule)}
          isDefault={isDefault}
          members={members.data}
          onCancel={() => setEditing(null)}
          onSave={async (input) => {
            const saved =
              editing.mode === 'new'
                ? await createNotificationRule(input)
                : await updateNotificationRule(editing.rule.id, input);
            setEditing(null);
            await rules.reload();
            setMessage(`Rule “${saved.name}” ${editing.mode === 'new' ? 'created' : 'saved'}.`);
          }}
        />
      </section>
    );
  }

  return (
    <section aria-labelledby="rules-title" className="rules-manager">
      <div className="section-heading">
        <h2 id="rules-title">Notification rules</h2>
        {canManage && (
          <button type="button" onClick={() => setEditing({ mode: 'new' })} disabled={!members.data}>
            Add rule
          </button>
        )}
        {onClose && (
          <button type="button" className="button-secondary" onClick={onClose}>
            Close
          </button>
        )}
      </div>
      <p className="muted">
        Rules decide who hears of which event, on which channel, and how soon. Each member’s{' '}
        <Link to="/settings/notifications">preferences</Link> then apply (except to critical alerts).
      </p>
      {!canManage && <p className="notice">Only admins can change the rules.</p>}
      <div aria-live="polite">{message && <SuccessNotice message={message} />}</div>
      {actionError && <ErrorNotice message={actionError} />}
      {rules.loading && !rules.data && <Loading what="notification rules" />}
      {rules.error && <ErrorNotice message={rules.error} onRetry={() => void rules.reload()} />}
      {rules.data && (
        <ul className="rule-list" aria-label="Notification rules">
          {rules.data.map((rule) => (
            <li key={rule.id} className={`card rule-item${rule.isActive ? '' : ' rule-inactive'}`}>
              <div className="rule-summary">
                <h3>{rule.name}</h3>
                {rule.defaultKey && <span className="badge">Default</span>}
                {rule.severity === 'critical' && <span className="badge badge-critical">Critical</span>}
                <span className={`badge ${rule.isActive ? 'badge-active' : 'badge-inactive'}`}>
                  {rule.isActive ? 'On' : 'Off'}
                </span>
              </div>
              <p className="rule-description">
                <span>When {rule.triggerEvents.join(' or ')}</span>
                {' → '}
                <span>{describeRecipients(rule.recipients, nameOf)}</span>
                {' · '}
                <span>{rule.channels.map((c) => channelLabels[c]).join(', ')}</span>
                {' · '}
                <span>{describeDelivery(rule.delivery)}</span>
                {rule.escalation && <span> · escalates after {rule.escalation.afterMinutes} min</span>}
              </p>
              {canManage && (
                <div className="rule-actions">
                  <label className="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      checked={switching[rule.id] ?? rule.isActive}
                      aria-checked={switching[rule.id] ?? rule.isActive}
                      aria-label={`${rule.name} on`}
                      onChange={(e) => {
                        const on = e.target.checked;
                        setSwitching((s) => ({ ...s, [rule.id]: on }));
                        void run(
                          () => updateNotificationRule(rule.id, { isActive: on }),
                          `${rule.name} switched ${on ? 'on' : 'off'}.`,
                        ).finally(() => setSwitching(({ [rule.id]: _, ...rest }) => rest));
                      }}
                    />{' '}
                    On
                  </label>
                  <button
                    type="button"
                    className="button-secondary"
                    aria-label={`Edit ${rule.name}`}
                    disabled={!members.data}
                    onClick={() => setEditing({ mode: 'edit', rule })}
                  >
                    Edit
                  </button>
                  {!rule.defaultKey && (
                    <ConfirmDelete
                      name={rule.name}
                      confirming={confirmingDelete === rule.id}
                      onAsk={() => setConfirmingDelete(rule.id)}
                      onCancel={() => setConfirmingDelete(null)}
                      onConfirm={() => {
                        setConfirmingDelete(null);
                        void run(() => deleteNotificationRule(rule.id), `${rule.name} deleted.`);
                      }}
                    />
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Without props, the rules page; with the setup props, the same manager inside Integration settings. */
export function NotificationRulesManager(props: Partial<IntegrationSetupProps>) {
  if (props.onCancel) {
    return (
      <div className="notification-rules-setup">
        <p className="hint">
          Notifications need no connection: they are configured by these rules (also on{' '}
          <Link to={NOTIFICATION_RULES_PAGE}>their own page</Link>).
        </p>
        <RulesManager onClose={props.onCancel} />
      </div>
    );
  }
  return <RulesManager />;
}
