// The rules editor's live preview: a sample event (what happened, and the ticket as it would be) is sent with the
// rule as written to POST /api/notifications/preview, which answers who would be told, on which channel, and when,
// with each person's preferences and quiet hours applied. Rows for Slack show the message as Slack would show it
// (SlackNotificationPreview, the server's own Block Kit).
import { useEffect, useId, useState } from 'react';
import {
  ApiError,
  describeError,
  type Member,
  type TicketPriority,
  type TicketStatus,
  ticketPriorities,
  ticketStatuses,
} from '../../api.ts';
import { formatTime, humanize, parseTags } from '../../format.ts';
import {
  channelLabels,
  type NotificationPreviewInput,
  type NotificationPreviewRow,
  type NotificationRuleInput,
  type NotificationTrigger,
  notificationTriggers,
  previewNotificationRule,
} from '../../notifications.ts';
import { type SlackMessageContent, SlackMessageView } from '../integrations/SlackNotificationPreview.tsx';
import { ErrorNotice } from '../Notices.tsx';

type Sample = {
  eventType: NotificationTrigger;
  priority: TicketPriority;
  status: TicketStatus;
  tags: string;
  assigneeId: string;
  requesterEmail: string;
};

function When({ row }: { row: NotificationPreviewRow }) {
  switch (row.decision) {
    case 'send_now':
      return <span className="decision decision-now">Now</span>;
    case 'digest':
      return <span className="decision decision-digest">In a digest at {formatTime(row.when)}</span>;
    case 'throttle_window':
      return <span className="decision decision-throttle">Within the throttle, from {formatTime(row.when)}</span>;
    case 'defer_quiet_hours':
      return <span className="decision decision-deferred">After quiet hours, {formatTime(row.when)}</span>;
    case 'suppressed':
      return <span className="decision decision-suppressed">Suppressed</span>;
  }
}

export function RulePreview({ rule, members }: { rule: NotificationRuleInput; members: Member[] }) {
  const id = useId();
  const [sample, setSample] = useState<Sample>(() => ({
    eventType: rule.triggerEvents[0] ?? 'ticket.created',
    priority: rule.conditions?.priorities?.[0] ?? 'urgent',
    status: 'open',
    tags: rule.conditions?.tags?.join(', ') ?? '',
    assigneeId: members.find((m) => m.role !== 'viewer')?.userId ?? '',
    requesterEmail: `customer@${rule.conditions?.requesterDomains?.[0] ?? 'example.com'}`,
  }));
  const [rows, setRows] = useState<NotificationPreviewRow[] | null>(null);
  const [slackMessage, setSlackMessage] = useState<SlackMessageContent | null>(null);
  const [ruleProblem, setRuleProblem] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const input: NotificationPreviewInput = {
    eventType: sample.eventType,
    ticket: {
      priority: sample.priority,
      status: sample.status,
      tags: parseTags(sample.tags),
      assigneeId: sample.assigneeId || null,
      requesterEmail: sample.requesterEmail.trim() || null,
    },
    rule,
  };
  const request = JSON.stringify(input);

  useEffect(() => {
    let current = true;
    setLoading(true);
    // Asked again once typing pauses, not at every key.
    const timer = setTimeout(async () => {
      try {
        const answer = await previewNotificationRule(JSON.parse(request) as NotificationPreviewInput);
        if (!current) return;
        setRows(answer.data);
        setSlackMessage(answer.slackMessage);
        setRuleProblem(null);
        setError(null);
      } catch (e) {
        if (!current) return;
        const ofRule = e instanceof ApiError ? e.details.filter((d) => d.path.startsWith('body.rule')) : [];
        if (ofRule.length > 0) {
          setRuleProblem(ofRule.map((d) => `${d.path.replace(/^body\.rule\./, '')}: ${d.message}`).join('; '));
          setError(null);
        } else {
          setError(describeError(e));
        }
      } finally {
        if (current) setLoading(false);
      }
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [request]);

  const set = <K extends keyof Sample>(key: K, value: Sample[K]) => setSample((s) => ({ ...s, [key]: value }));
  const slackRows = (rows ?? []).filter((r) => r.channel === 'slack');
  // Shown as soon as the rule uses Slack, so the message can be judged while the rule is still being written.
  const usesSlack =
    slackRows.length > 0 || rule.channels.includes('slack') || rule.recipients.some((r) => r.type === 'slack_channel');

  return (
    <section className="rule-preview card" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Preview: who would be notified</h3>
      <fieldset className="sample-event">
        <legend>Sample event</legend>
        <div className="form-grid">
          <div className="field">
            <label htmlFor={`${id}-event`}>Event</label>
            <select
              id={`${id}-event`}
              value={sample.eventType}
              onChange={(e) => set('eventType', e.target.value as NotificationTrigger)}
            >
              {notificationTriggers.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-priority`}>Priority</label>
            <select
              id={`${id}-priority`}
              value={sample.priority}
              onChange={(e) => set('priority', e.target.value as TicketPriority)}
            >
              {ticketPriorities.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-status`}>Status</label>
            <select
              id={`${id}-status`}
              value={sample.status}
              onChange={(e) => set('status', e.target.value as TicketStatus)}
            >
              {ticketStatuses.map((s) => (
                <option key={s} value={s}>
                  {humanize(s)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-tags`}>Tags</label>
            <input id={`${id}-tags`} value={sample.tags} onChange={(e) => set('tags', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-assignee`}>Assignee</label>
            <select id={`${id}-assignee`} value={sample.assigneeId} onChange={(e) => set('assigneeId', e.target.value)}>
              <option value="">Unassigned</option>
              {members.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.name || m.email}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-requester`}>Requester email</label>
            <input
              id={`${id}-requester`}
              type="email"
              value={sample.requesterEmail}
              onChange={(e) => set('requesterEmail', e.target.value)}
            />
          </div>
        </div>
      </fieldset>

      <div aria-live="polite" className={loading ? 'preview-stale' : undefined}>
        {ruleProblem && (
          <p className="notice notice-warning">The preview shows once the rule is valid ({ruleProblem}).</p>
        )}
        {error && <ErrorNotice message={`The preview could not be made: ${error}`} />}
        {rows && !ruleProblem && rows.length === 0 && (
          <p className="empty">Nobody would be notified of this event (the rule does not match it).</p>
        )}
        {rows && !ruleProblem && rows.length > 0 && (
          <table className="preview-table" aria-label="Who would be notified">
            <thead>
              <tr>
                <th scope="col">Who</th>
                <th scope="col">Channel</th>
                <th scope="col">When</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.recipient.key}|${row.channel}|${row.ruleName}`} className={`preview-${row.decision}`}>
                  <td>{row.recipient.label}</td>
                  <td>{channelLabels[row.channel]}</td>
                  <td>
                    <When row={row} />
                  </td>
                  <td>{row.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {usesSlack && (
        <div className="rule-preview-slack">
          <h4>Preview in Slack</h4>
          <p className="hint">
            In Slack{slackRows.length > 0 ? ` (${slackRows.map((r) => r.recipient.label).join(', ')})` : ''}, the
            message reads like this (the sample event, built by the Slack channel itself):
          </p>
          {slackMessage ? (
            <SlackMessageView message={slackMessage} label="The notification in Slack" />
          ) : (
            <p className="hint">The message shows once the preview has answered.</p>
          )}
        </div>
      )}
    </section>
  );
}
