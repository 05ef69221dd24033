// Creating or editing a notification rule: its events, conditions, channels, recipients, delivery (immediate, a
// digest, a throttle), severity and escalation. The API checks the whole rule (an unknown event, a channel that is
// not connected, a recipient who is not a member) and its 422 is shown beside each field; the preview beside the
// form evaluates the rule as written against a sample event.

import { type FormEvent, type ReactNode, useId, useState } from 'react';
import {
  ApiError,
  describeError,
  listWebhookEndpoints,
  type Member,
  type TicketChannel,
  ticketPriorities,
  ticketStatuses,
} from '../../api.ts';
import { humanize } from '../../format.ts';
import {
  channelLabels,
  type NotificationRuleInput,
  notificationChannels,
  notificationTriggers,
  ticketChannels,
} from '../../notifications.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, FieldError } from '../Notices.tsx';
import { TextField } from '../TextField.tsx';
import { RecipientsEditor } from './RecipientsEditor.tsx';
import { RulePreview } from './RulePreview.tsx';
import {
  type FieldErrors,
  fieldErrors,
  type GroupBy,
  noFieldErrors,
  type RuleDraft,
  ruleFromDraft,
  type SlaState,
} from './ruleDraft.ts';

const groupings: GroupBy[] = ['ticket', 'event_type', 'rule', 'recipient'];
const slaStates: SlaState[] = ['ok', 'warning', 'breached'];

/** A set of checkboxes for the values of one list field. */
function Choices<T extends string>({
  legend,
  name,
  values,
  selected,
  onChange,
  label = (v) => v,
  error,
  hint,
}: {
  legend: string;
  name: string;
  values: readonly T[];
  selected: readonly T[];
  onChange: (next: T[]) => void;
  label?: (value: T) => string;
  error?: string | null;
  hint?: ReactNode;
}) {
  const id = useId();
  return (
    <fieldset
      className="choices"
      aria-invalid={error ? true : undefined}
      aria-describedby={error ? `${id}-error` : undefined}
    >
      <legend>{legend}</legend>
      {hint && <p className="hint">{hint}</p>}
      <div className="choice-list">
        {values.map((value) => (
          <label key={value} className="choice">
            <input
              type="checkbox"
              name={name}
              value={value}
              checked={selected.includes(value)}
              onChange={(e) => onChange(values.filter((v) => (v === value ? e.target.checked : selected.includes(v))))}
            />{' '}
            {label(value)}
          </label>
        ))}
      </div>
      <FieldError id={`${id}-error`} message={error} />
    </fieldset>
  );
}

export function RuleEditor({
  initial,
  isDefault,
  members,
  onSave,
  onCancel,
}: {
  initial: RuleDraft;
  isDefault: boolean;
  members: Member[];
  /** Saves the rule; throws the API's error, which the form shows beside the fields. */
  onSave: (rule: NotificationRuleInput) => Promise<void>;
  onCancel: () => void;
}) {
  const id = useId();
  const [draft, setDraft] = useState<RuleDraft>(initial);
  const [errors, setErrors] = useState<FieldErrors>(noFieldErrors);
  const [message, setMessage] = useState<string | null>(null);
  const [unplaced, setUnplaced] = useState<{ path: string; message: string }[]>([]);
  const [saving, setSaving] = useState(false);
  const endpoints = useLoader('webhook-endpoints', async () => (await listWebhookEndpoints()).data);
  const set = <K extends keyof RuleDraft>(key: K, value: RuleDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const rule = ruleFromDraft(draft);

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    setSaving(true);
    setErrors(noFieldErrors);
    setMessage(null);
    setUnplaced([]);
    try {
      await onSave(rule);
    } catch (e) {
      const details = e instanceof ApiError ? e.details : [];
      setErrors(fieldErrors(details));
      setMessage(
        details.length ? 'The rule was not saved: please correct the fields marked in red.' : describeError(e),
      );
      // Errors about a field the form has no place for are listed with the message.
      const placed =
        /^body\.(name|triggerEvents|conditions|channels|recipients|delivery|severity|escalation|webhookEndpointId)/;
      setUnplaced(details.filter((d) => !placed.test(d.path)));
    } finally {
      setSaving(false);
    }
  }

  const conditionError = (key: string) => errors.at(`conditions.${key}`);

  return (
    <div className="rule-editor-layout">
      <form
        className="rule-editor"
        aria-label={initial.name ? `Edit rule ${initial.name}` : 'New notification rule'}
        onSubmit={(e) => void handleSubmit(e)}
        noValidate
      >
        <TextField
          id={`${id}-name`}
          label="Rule name"
          value={draft.name}
          onChange={(v) => set('name', v)}
          error={errors.at('name')}
        />
        {isDefault && <p className="hint">A default rule: you can change it or switch it off, not delete it.</p>}

        <Choices
          legend="When (trigger events)"
          name="triggerEvents"
          values={notificationTriggers}
          selected={draft.triggerEvents}
          onChange={(v) => set('triggerEvents', v)}
          error={errors.at('triggerEvents')}
        />

        <fieldset className="rule-conditions">
          <legend>Only if (conditions; leave empty for every event)</legend>
          <Choices
            legend="Priority"
            name="priorities"
            values={ticketPriorities}
            selected={draft.priorities}
            onChange={(v) => set('priorities', v)}
            error={conditionError('priorities')}
          />
          <Choices
            legend="Status"
            name="statuses"
            values={ticketStatuses}
            selected={draft.statuses}
            onChange={(v) => set('statuses', v)}
            label={humanize}
            error={conditionError('statuses')}
          />
          <Choices<TicketChannel>
            legend="Ticket channel"
            name="ticketChannels"
            values={ticketChannels}
            selected={draft.ticketChannels}
            onChange={(v) => set('ticketChannels', v)}
            error={conditionError('ticketChannels')}
          />
          <Choices
            legend="SLA state"
            name="slaStates"
            values={slaStates}
            selected={draft.slaStates}
            onChange={(v) => set('slaStates', v)}
            error={conditionError('slaStates')}
          />
          <div className="form-grid">
            <TextField
              id={`${id}-tags`}
              label="Tagged with any of"
              hint="Comma separated"
              value={draft.tags}
              onChange={(v) => set('tags', v)}
              error={conditionError('tags')}
            />
            <TextField
              id={`${id}-domains`}
              label="Requester domains"
              hint="example.com, partner.org"
              value={draft.requesterDomains}
              onChange={(v) => set('requesterDomains', v)}
              error={conditionError('requesterDomains')}
            />
            <div className="field">
              <label htmlFor={`${id}-assignee`}>Assignee</label>
              <select
                id={`${id}-assignee`}
                value={draft.assignee}
                onChange={(e) => set('assignee', e.target.value as RuleDraft['assignee'])}
                aria-invalid={conditionError('assignee') ? true : undefined}
              >
                <option value="">Any (no condition)</option>
                <option value="assigned">Assigned to someone</option>
                <option value="unassigned">Unassigned</option>
              </select>
              <FieldError id={`${id}-assignee-error`} message={conditionError('assignee')} />
            </div>
            <TextField
              id={`${id}-since-reply`}
              label="Minutes since the last reply, at least"
              type="number"
              value={draft.minutesSinceLastReply}
              onChange={(v) => set('minutesSinceLastReply', v)}
              error={conditionError('minutesSinceLastReply')}
            />
          </div>
        </fieldset>

        <Choices
          legend="Channels"
          name="channels"
          values={notificationChannels}
          selected={draft.channels}
          onChange={(v) => set('channels', v)}
          label={(c) => channelLabels[c]}
          error={errors.at('channels')}
          hint="Slack and email need their integration connected; webhook sends to one endpoint."
        />
        {draft.channels.includes('webhook') && (
          <div className="field">
            <label htmlFor={`${id}-endpoint`}>Webhook endpoint</label>
            <select
              id={`${id}-endpoint`}
              value={draft.webhookEndpointId}
              onChange={(e) => set('webhookEndpointId', e.target.value)}
              aria-invalid={errors.at('webhookEndpointId') ? true : undefined}
            >
              <option value="">Choose an endpoint…</option>
              {(endpoints.data ?? []).map((endpoint) => (
                <option key={endpoint.id} value={endpoint.id} disabled={!endpoint.enabled}>
                  {endpoint.description ? `${endpoint.description} (${endpoint.url})` : endpoint.url}
                  {endpoint.enabled ? '' : ' (disabled)'}
                </option>
              ))}
            </select>
            <FieldError id={`${id}-endpoint-error`} message={errors.at('webhookEndpointId')} />
          </div>
        )}

        <RecipientsEditor
          label="Who (recipients)"
          path="recipients"
          recipients={draft.recipients}
          onChange={(v) => set('recipients', v)}
          members={members}
          errors={errors}
        />

        <fieldset className="rule-delivery">
          <legend>Delivery</legend>
          <div className="choice-list">
            {(['immediate', 'digest', 'throttle'] as const).map((mode) => (
              <label key={mode} className="choice">
                <input
                  type="radio"
                  name={`${id}-delivery`}
                  value={mode}
                  checked={draft.deliveryMode === mode}
                  onChange={() => set('deliveryMode', mode)}
                />{' '}
                {mode === 'immediate' ? 'Immediately' : mode === 'digest' ? 'Digest' : 'Throttle'}
              </label>
            ))}
          </div>
          {draft.deliveryMode === 'digest' && (
            <div className="form-grid">
              <TextField
                id={`${id}-digest-window`}
                label="Digest window (minutes)"
                type="number"
                value={draft.digestWindow}
                onChange={(v) => set('digestWindow', v)}
                error={errors.at('delivery.windowMinutes')}
              />
              <GroupBySelect
                id={`${id}-digest-group`}
                label="One summary per"
                value={draft.digestGroupBy}
                onChange={(g) => set('digestGroupBy', g)}
              />
            </div>
          )}
          {draft.deliveryMode === 'throttle' && (
            <div className="form-grid">
              <TextField
                id={`${id}-throttle-limit`}
                label="At most (notifications)"
                type="number"
                value={draft.throttleLimit}
                onChange={(v) => set('throttleLimit', v)}
                error={errors.at('delivery.limit')}
              />
              <TextField
                id={`${id}-throttle-window`}
                label="Per window (minutes)"
                type="number"
                value={draft.throttleWindow}
                onChange={(v) => set('throttleWindow', v)}
                error={errors.at('delivery.windowMinutes')}
              />
              <GroupBySelect
                id={`${id}-throttle-key`}
                label="Per recipient and"
                value={draft.throttleKey}
                onChange={(g) => set('throttleKey', g)}
              />
            </div>
          )}
          <FieldError id={`${id}-delivery-error`} message={errors.exact('delivery')} />
        </fieldset>

        <fieldset className="rule-severity">
          <legend>Severity and escalation</legend>
          <div className="field">
            <label htmlFor={`${id}-severity`}>Severity</label>
            <select
              id={`${id}-severity`}
              value={draft.severity}
              onChange={(e) => set('severity', e.target.value as RuleDraft['severity'])}
              aria-describedby={`${id}-severity-hint`}
            >
              <option value="normal">Normal</option>
              <option value="critical">Critical</option>
            </select>
            <span id={`${id}-severity-hint`} className="hint">
              Critical ignores quiet hours, digests and people’s “off”, and can escalate until acknowledged.
            </span>
            <FieldError id={`${id}-severity-error`} message={errors.at('severity')} />
          </div>
          <div className="field field-checkbox">
            <input
              id={`${id}-escalate`}
              type="checkbox"
              checked={draft.escalate}
              onChange={(e) => set('escalate', e.target.checked)}
            />
            <label htmlFor={`${id}-escalate`}>Escalate if nobody acknowledges</label>
          </div>
          {draft.escalate && (
            <>
              <TextField
                id={`${id}-escalate-after`}
                label="Escalate after (minutes)"
                type="number"
                value={draft.escalationAfter}
                onChange={(v) => set('escalationAfter', v)}
                error={errors.at('escalation.afterMinutes')}
              />
              <RecipientsEditor
                label="Escalate to"
                path="escalation.recipients"
                recipients={draft.escalationRecipients}
                onChange={(v) => set('escalationRecipients', v)}
                members={members}
                errors={errors}
              />
            </>
          )}
          <FieldError id={`${id}-escalation-error`} message={errors.exact('escalation')} />
        </fieldset>

        <div className="field field-checkbox">
          <input
            id={`${id}-active`}
            type="checkbox"
            checked={draft.isActive}
            onChange={(e) => set('isActive', e.target.checked)}
          />
          <label htmlFor={`${id}-active`}>Active</label>
        </div>

        <div className="form-actions">
          <button type="submit" disabled={saving}>
            {saving ? 'Saving…' : 'Save rule'}
          </button>
          <button type="button" className="button-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
        <div className="form-errors" aria-live="polite">
          {message && <ErrorNotice message={message} details={unplaced} />}
        </div>
      </form>
      <RulePreview rule={rule} members={members} />
    </div>
  );
}

/** What a digest gathers by, or a throttle counts by. */
function GroupBySelect(props: { id: string; label: string; value: GroupBy; onChange: (g: GroupBy) => void }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value as GroupBy)}>
        {groupings.map((g) => (
          <option key={g} value={g}>
            {humanize(g)}
          </option>
        ))}
      </select>
    </div>
  );
}
