// One ticket: what it is about, its files, its timeline, and (for agents) the controls to change it, attach files
// and comment.
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { type Comment, describeError, getTicket, listComments, listTicketEvents, type TicketEvent } from '../api.ts';
import { useTicketAttachments } from '../attachments.ts';
import { EmailComposer } from '../components/email/EmailComposer.tsx';
import { EmailThread } from '../components/email/EmailThread.tsx';
import { LinearIssueLink } from '../components/integrations/LinearIssueLink.tsx';
import { SlackConversationLink } from '../components/integrations/SlackConversationLink.tsx';
import { ErrorNotice, Loading } from '../components/Notices.tsx';
import { AttachmentGallery } from '../components/tickets/AttachmentGallery.tsx';
import { CommentBox } from '../components/tickets/CommentBox.tsx';
import { FileUploadZone } from '../components/tickets/FileUploadZone.tsx';
import { PriorityBadge, StatusBadge } from '../components/tickets/TicketBadges.tsx';
import { TicketControls } from '../components/tickets/TicketControls.tsx';
import { Timeline } from '../components/tickets/Timeline.tsx';
import { formatTime, memberName } from '../format.ts';
import { useMembers } from '../members.ts';
import { canEditTickets, useMe } from '../session.tsx';
import { useMailboxes, useTicketEmails } from '../ticket-emails.ts';
import { buildTimeline } from '../timeline.ts';
import { completeSince, extendStream, holdsBack, type LoadedStream, streamOf } from '../timeline-pages.ts';
import { useLoader } from '../useLoader.ts';
import { usePageTitle } from '../usePageTitle.ts';

// The newest activity first; earlier pages load when asked for ("Show earlier activity").
const TIMELINE_PAGE = { limit: 50, order: 'desc' } as const;

type TimelineStreams = { comments: LoadedStream<Comment>; events: LoadedStream<TicketEvent> };

async function loadTicketPage(ticketId: string) {
  const [ticket, comments, events] = await Promise.all([
    getTicket(ticketId),
    listComments(ticketId, TIMELINE_PAGE),
    listTicketEvents(ticketId, TIMELINE_PAGE),
  ]);
  return { ticket, timeline: { comments: streamOf(comments), events: streamOf(events) } };
}

export function TicketDetailPage() {
  const { ticketId = '' } = useParams();
  const me = useMe();
  const members = useMembers();
  const page = useLoader(ticketId, () => loadTicketPage(ticketId));
  const [notice, setNotice] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  // A file appearing, changing status or going away is also an event: the timeline reads them again.
  const files = useTicketAttachments(ticketId, () => void page.reload());
  const emails = useTicketEmails(ticketId);
  const mailboxes = useMailboxes();
  // While an email is being written its own upload zone takes the files (and pastes): one zone on the page at a time.
  const [composing, setComposing] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: another ticket starts without a composer
  useEffect(() => setComposing(false), [ticketId]);
  usePageTitle(page.data ? `#${page.data.ticket.number} ${page.data.ticket.subject}` : 'Ticket');
  // Earlier pages loaded on demand; a reload (after a change) starts again from the newest page.
  const [streams, setStreams] = useState<TimelineStreams | null>(null);
  const [loadingEarlier, setLoadingEarlier] = useState(false);
  const [earlierError, setEarlierError] = useState<string | null>(null);
  useEffect(() => {
    setStreams(page.data?.timeline ?? null);
    setEarlierError(null);
  }, [page.data]);

  if (!page.data) {
    return (
      <section aria-labelledby="ticket-title">
        <h1 id="ticket-title">Ticket</h1>
        {page.loading && <Loading what="the ticket" />}
        {page.errorStatus === 404 ? (
          <div className="notice notice-error" role="alert">
            <p>
              There is no such ticket in {me.organization.name}. <Link to="/tickets">Back to the tickets</Link>
            </p>
          </div>
        ) : (
          page.error && <ErrorNotice message={page.error} onRetry={() => void page.reload()} />
        )}
      </section>
    );
  }

  const { ticket } = page.data;
  const { comments, events } = streams ?? page.data.timeline;
  const since = completeSince([comments, events]);
  const nameOf = (userId: string | null) => memberName(members.data, userId);
  const entries = buildTimeline(comments.items, events.items, nameOf, since);

  async function showEarlier() {
    setLoadingEarlier(true);
    setEarlierError(null);
    try {
      const [olderComments, olderEvents] = await Promise.all([
        holdsBack(comments, since) && comments.nextCursor
          ? listComments(ticketId, { ...TIMELINE_PAGE, cursor: comments.nextCursor })
          : null,
        holdsBack(events, since) && events.nextCursor
          ? listTicketEvents(ticketId, { ...TIMELINE_PAGE, cursor: events.nextCursor })
          : null,
      ]);
      setStreams({
        comments: olderComments ? extendStream(comments, olderComments) : comments,
        events: olderEvents ? extendStream(events, olderEvents) : events,
      });
    } catch (e) {
      setEarlierError(describeError(e));
    } finally {
      setLoadingEarlier(false);
    }
  }

  async function afterSave() {
    setConflict(false);
    setNotice('Ticket updated.');
    await page.reload();
  }

  async function afterConflict() {
    setNotice(null);
    setConflict(true);
    await page.reload();
  }

  return (
    <section aria-labelledby="ticket-title" className="ticket-detail">
      <p>
        <Link to="/tickets">← All tickets</Link>
      </p>
      <div className="page-heading">
        <h1 id="ticket-title">
          <span className="ticket-number">#{ticket.number}</span> {ticket.subject}
        </h1>
        <div className="badges">
          <StatusBadge status={ticket.status} />
          <PriorityBadge priority={ticket.priority} />
        </div>
      </div>
      <div aria-live="polite">
        {page.loading && <Loading what="the latest version" />}
        {notice && !page.loading && <p className="notice notice-success">{notice}</p>}
      </div>
      {page.error && <ErrorNotice message={page.error} onRetry={() => void page.reload()} />}
      {conflict && (
        <p className="notice notice-error" role="alert">
          Someone else changed this ticket while you were editing it, so your change was not saved. The latest version
          is shown below: check it and make your change again if it still applies.
        </p>
      )}

      <div className="ticket-columns">
        <div className="ticket-main">
          <section className="card" aria-labelledby="description-title">
            <h2 id="description-title">Description</h2>
            <p className="comment-body">{ticket.description || <span className="muted">No description.</span>}</p>
          </section>
          {(emails.data?.length || mailboxes.all.length > 0) && (
            <EmailThread
              emails={emails.data}
              error={emails.error}
              onRetry={() => void emails.reload()}
              attachments={files.attachments}
            />
          )}
          {canEditTickets(me) &&
            (composing ? (
              <EmailComposer
                key={ticket.id}
                ticket={ticket}
                mailboxes={mailboxes.sending}
                threadMailboxId={emails.data?.at(-1)?.integrationId ?? null}
                attachments={files.attachments}
                onAttachmentsChanged={() => void files.reload()}
                onSent={() => {
                  void emails.reload();
                  // The email is a public comment too: the timeline shows it.
                  void page.reload();
                }}
                onClose={() => setComposing(false)}
              />
            ) : mailboxes.sending.length > 0 ? (
              <p>
                <button type="button" onClick={() => setComposing(true)}>
                  Write an email
                </button>
              </p>
            ) : (
              mailboxes.all.length > 0 && (
                <p className="hint">No active mailbox sends mail (SMTP): an admin can set one up in Integrations.</p>
              )
            ))}
          <AttachmentGallery
            attachments={files.attachments}
            error={files.error}
            canDelete={canEditTickets(me)}
            onDeleted={() => void files.reload()}
            onRetry={() => void files.reload()}
          />
          {canEditTickets(me) && !composing && (
            <FileUploadZone
              ticketId={ticket.id}
              attachments={files.attachments}
              onUploaded={() => void files.reload()}
            />
          )}
          <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline</h2>
            {since !== null && (
              <p>
                <button type="button" onClick={() => void showEarlier()} disabled={loadingEarlier}>
                  {loadingEarlier ? 'Loading earlier activity…' : 'Show earlier activity'}
                </button>
              </p>
            )}
            {earlierError && <ErrorNotice message={earlierError} onRetry={() => void showEarlier()} />}
            <Timeline entries={entries} />
          </section>
          {canEditTickets(me) && <CommentBox ticketId={ticket.id} onPosted={page.reload} />}
        </div>
        <aside className="ticket-side" aria-label="Ticket details">
          {canEditTickets(me) && (
            <TicketControls
              key={`${ticket.id}:${ticket.version}`}
              ticket={ticket}
              members={members.data}
              onSaved={() => void afterSave()}
              onConflict={() => void afterConflict()}
            />
          )}
          <section className="card" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <dl className="details">
              <dt>Requester</dt>
              <dd>
                {ticket.requester
                  ? ticket.requester.name
                    ? `${ticket.requester.name} <${ticket.requester.email}>`
                    : ticket.requester.email
                  : '—'}
              </dd>
              <dt>Assignee</dt>
              <dd>{nameOf(ticket.assigneeId)}</dd>
              <dt>Channel</dt>
              <dd>{ticket.channel}</dd>
              <dt>Tags</dt>
              <dd>{ticket.tags.length ? ticket.tags.join(', ') : '—'}</dd>
              <dt>First response due</dt>
              <dd>{formatTime(ticket.firstResponseDueAt)}</dd>
              <dt>Resolution due</dt>
              <dd>{formatTime(ticket.resolutionDueAt)}</dd>
              <dt>Created</dt>
              <dd>{formatTime(ticket.createdAt)}</dd>
              <dt>Updated</dt>
              <dd>{formatTime(ticket.updatedAt)}</dd>
            </dl>
          </section>
          <LinearIssueLink
            ticketId={ticket.id}
            canEdit={canEditTickets(me)}
            onLinksChanged={() => void page.reload()}
          />
          <SlackConversationLink ticketId={ticket.id} />
        </aside>
      </div>
    </section>
  );
}
