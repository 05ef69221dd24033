// Status, priority and assignee of a ticket. Saves only what changed, with the version it was based on;
// a 409 means someone else saved first, which the page handles by reloading.
import { type FormEvent, useState } from 'react';
import {
  ApiError,
  describeError,
  type Member,
  type Ticket,
  type TicketChanges,
  type TicketPriority,
  type TicketStatus,
  updateTicket,
} from '../../api.ts';
import { ErrorNotice } from '../Notices.tsx';
import { PriorityOptions, StatusOptions } from './TicketFieldOptions.tsx';

type Props = {
  ticket: Ticket;
  members: Member[] | undefined;
  onSaved: (ticket: Ticket) => void;
  onConflict: () => void;
};

export function TicketControls({ ticket, members, onSaved, onConflict }: Props) {
  const [status, setStatus] = useState<TicketStatus>(ticket.status);
  const [priority, setPriority] = useState<TicketPriority>(ticket.priority);
  const [assigneeId, setAssigneeId] = useState(ticket.assigneeId ?? '');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<ApiError | string | null>(null);

  const changes: TicketChanges = {};
  if (status !== ticket.status) changes.status = status;
  if (priority !== ticket.priority) changes.priority = priority;
  if ((assigneeId || null) !== ticket.assigneeId) changes.assigneeId = assigneeId || null;
  const changed = Object.keys(changes).length > 0;

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    if (!changed) return;
    setSaving(true);
    setError(null);
    try {
      onSaved(await updateTicket(ticket.id, ticket.version, changes));
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) onConflict();
      else setError(e instanceof ApiError ? e : describeError(e));
    } finally {
      setSaving(false);
    }
  }

  // A member list that no longer contains the assignee (they left) must still show who it is.
  const assigneeMissing = ticket.assigneeId && !members?.some((m) => m.userId === ticket.assigneeId);

  return (
    <form className="card ticket-controls" onSubmit={(e) => void handleSubmit(e)} aria-labelledby="controls-title">
      <h2 id="controls-title">Update ticket</h2>
      <div className="field">
        <label htmlFor="control-status">Status</label>
        <select id="control-status" value={status} onChange={(e) => setStatus(e.target.value as TicketStatus)}>
          <StatusOptions />
        </select>
      </div>
      <div className="field">
        <label htmlFor="control-priority">Priority</label>
        <select id="control-priority" value={priority} onChange={(e) => setPriority(e.target.value as TicketPriority)}>
          <PriorityOptions />
        </select>
      </div>
      <div className="field">
        <label htmlFor="control-assignee">Assignee</label>
        <select id="control-assignee" value={assigneeId} onChange={(e) => setAssigneeId(e.target.value)}>
          <option value="">Unassigned</option>
          {assigneeMissing && <option value={ticket.assigneeId ?? ''}>Former member</option>}
          {members?.map((m) => (
            <option key={m.userId} value={m.userId}>
              {m.name || m.email}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <ErrorNotice
          message={typeof error === 'string' ? error : error.message}
          details={typeof error === 'string' ? undefined : error.details}
        />
      )}
      <button type="submit" disabled={!changed || saving}>
        {saving ? 'Saving…' : 'Save changes'}
      </button>
    </form>
  );
}
