// The ticket's history as one list: comments (public replies and internal notes) and events.
import { formatTime } from '../../format.ts';
import type { TimelineEntry } from '../../timeline.ts';

export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p className="empty">Nothing has happened on this ticket yet.</p>;
  return (
    <ol className="timeline" aria-label="Timeline">
      {entries.map((entry) =>
        entry.kind === 'comment' ? (
          <li key={entry.key} className={`timeline-comment ${entry.comment.isPublic ? 'public' : 'internal'}`}>
            <article
              aria-label={`${entry.comment.isPublic ? 'Reply' : 'Internal note'} by ${entry.comment.author.name}`}
            >
              <header>
                <strong>{entry.comment.author.name}</strong>
                <span className={`badge ${entry.comment.isPublic ? 'badge-public' : 'badge-internal'}`}>
                  {entry.comment.isPublic ? 'Public reply' : 'Internal note'}
                </span>
                {entry.comment.source !== 'web' && <span className="muted">via {entry.comment.source}</span>}
                <time dateTime={entry.at}>{formatTime(entry.at)}</time>
              </header>
              <p className="comment-body">{entry.comment.body}</p>
            </article>
          </li>
        ) : (
          <li key={entry.key} className="timeline-event" data-event-type={entry.event.type}>
            <span className="event-label">{entry.label}</span>
            <span className="muted">
              {' '}
              by {entry.actor} · <time dateTime={entry.at}>{formatTime(entry.at)}</time>
            </span>
          </li>
        ),
      )}
    </ol>
  );
}
