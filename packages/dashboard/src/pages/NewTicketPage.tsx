// Opening a ticket on someone's behalf; the API validates it and answers with the new ticket.
import { type FormEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, createTicket, describeError, type ErrorDetail, type NewTicket } from '../api.ts';
import { ErrorNotice } from '../components/Notices.tsx';
import { PriorityOptions } from '../components/tickets/TicketFieldOptions.tsx';
import { parseTags } from '../format.ts';
import { useMembers } from '../members.ts';
import { canEditTickets, useMe } from '../session.tsx';
import { usePageTitle } from '../usePageTitle.ts';

export function NewTicketPage() {
  const me = useMe();
  usePageTitle('New ticket');
  const navigate = useNavigate();
  const members = useMembers();
  const [subject, setSubject] = useState('');
  const [description, setDescription] = useState('');
  const [priority, setPriority] = useState<NewTicket['priority']>('normal');
  const [requesterEmail, setRequesterEmail] = useState('');
  const [requesterName, setRequesterName] = useState('');
  const [assigneeId, setAssigneeId] = useState('');
  const [tags, setTags] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<{ message: string; details: ErrorDetail[] } | null>(null);

  if (!canEditTickets(me)) {
    return (
      <section aria-labelledby="new-ticket-title">
        <h1 id="new-ticket-title">New ticket</h1>
        <p className="notice">Your role ({me.role}) can read tickets but not open them.</p>
      </section>
    );
  }

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    const input: NewTicket = { subject: subject.trim(), priority, channel: 'web' };
    if (description.trim()) input.description = description.trim();
    if (requesterEmail.trim()) input.requesterEmail = requesterEmail.trim();
    if (requesterName.trim()) input.requesterName = requesterName.trim();
    if (assigneeId) input.assigneeId = assigneeId;
    const tagList = parseTags(tags);
    if (tagList.length > 0) input.tags = tagList;
    try {
      const ticket = await createTicket(input);
      navigate(`/tickets/${ticket.id}`);
    } catch (e) {
      setError({ message: describeError(e), details: e instanceof ApiError ? e.details : [] });
      setSubmitting(false);
    }
  }

  return (
    <section aria-labelledby="new-ticket-title">
      <div className="page-heading">
        <h1 id="new-ticket-title">New ticket</h1>
        <Link to="/tickets">Back to tickets</Link>
      </div>
      <form className="card form-grid" onSubmit={(e) => void handleSubmit(e)}>
        <div className="field span-2">
          <label htmlFor="ticket-subject">Subject</label>
          <input
            id="ticket-subject"
            required
            maxLength={500}
            value={subject}
            onChange={(e) => setSubject(e.target.value)}
          />
        </div>
        <div className="field span-2">
          <label htmlFor="ticket-description">Description</label>
          <textarea
            id="ticket-description"
            rows={6}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="ticket-requester-email">Requester email</label>
          <input
            id="ticket-requester-email"
            type="email"
            value={requesterEmail}
            onChange={(e) => setRequesterEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="ticket-requester-name">Requester name</label>
          <input id="ticket-requester-name" value={requesterName} onChange={(e) => setRequesterName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="ticket-priority">Priority</label>
          <select
            id="ticket-priority"
            value={priority}
            onChange={(e) => setPriority(e.target.value as NewTicket['priority'])}
          >
            <PriorityOptions />
          </select>
        </div>
        <div className="field">
          <label htmlFor="ticket-assignee">Assignee</label>
          <select id="ticket-assignee" value={assigneeId} onChange={(e) => setAssigneeId(e.target.value)}>
            <option value="">Unassigned</option>
            {members.data?.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.name || m.email}
              </option>
            ))}
          </select>
          {members.error && <span className="field-error">Could not load members: {members.error}</span>}
        </div>
        <div className="field span-2">
          <label htmlFor="ticket-tags">Tags</label>
          <input
            id="ticket-tags"
            aria-describedby="ticket-tags-hint"
            value={tags}
            onChange={(e) => setTags(e.target.value)}
          />
          <span id="ticket-tags-hint" className="hint">
            Separate tags with commas.
          </span>
        </div>
        {error && (
          <div className="span-2">
            <ErrorNotice message={error.message} details={error.details} />
          </div>
        )}
        <div className="form-actions span-2">
          <button type="submit" disabled={submitting}>
            {submitting ? 'Creating…' : 'Create ticket'}
          </button>
        </div>
      </form>
    </section>
  );
}
