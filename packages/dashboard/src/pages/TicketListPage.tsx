// The ticket list: filters live in the URL (so a filtered list can be shared), pages load with "Load more".
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import {
  describeError,
  listTickets,
  type Ticket,
  type TicketFilters,
  type TicketPriority,
  type TicketStatus,
} from '../api.ts';
import { ErrorNotice, Loading } from '../components/Notices.tsx';
import { PriorityBadge, StatusBadge } from '../components/tickets/TicketBadges.tsx';
import { PriorityOptions, StatusOptions } from '../components/tickets/TicketFieldOptions.tsx';
import { formatTime, memberName } from '../format.ts';
import { useMembers } from '../members.ts';
import { canEditTickets, useMe } from '../session.tsx';
import { usePageTitle } from '../usePageTitle.ts';

const filterKeys = ['status', 'priority', 'assigneeId', 'tag', 'q'] as const;

function filtersFrom(params: URLSearchParams): TicketFilters {
  return {
    status: (params.get('status') ?? '') as TicketStatus | '',
    priority: (params.get('priority') ?? '') as TicketPriority | '',
    assigneeId: params.get('assigneeId') ?? '',
    tag: params.get('tag') ?? '',
    q: params.get('q') ?? '',
  };
}

type ListState = { tickets: Ticket[]; nextCursor: string | null };

export function TicketListPage() {
  const me = useMe();
  usePageTitle('Tickets');
  const [params, setParams] = useSearchParams();
  const filters = filtersFrom(params);
  const filterKey = filterKeys.map((k) => filters[k] ?? '').join('\u0000');
  const members = useMembers();
  const [draft, setDraft] = useState<TicketFilters>(filters);
  const [list, setList] = useState<ListState | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [reloadCount, setReloadCount] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: filterKey stands for the filters; reloadCount retries
  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(null);
    setList(null);
    setDraft(filters);
    listTickets(filters)
      .then((page) => current && setList({ tickets: page.data, nextCursor: page.nextCursor }))
      .catch((e) => current && setError(describeError(e)))
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
  }, [filterKey, reloadCount]);

  async function loadMore() {
    if (!list?.nextCursor) return;
    setLoading(true);
    setError(null);
    try {
      const page = await listTickets(filters, list.nextCursor);
      setList({ tickets: [...list.tickets, ...page.data], nextCursor: page.nextCursor });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoading(false);
    }
  }

  function applyFilters(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const key of filterKeys) {
      const value = draft[key]?.trim();
      if (value) next.set(key, value);
    }
    setParams(next);
  }

  function clearFilters() {
    setDraft({});
    setParams(new URLSearchParams());
  }

  const setField = (key: keyof TicketFilters) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));

  return (
    <section aria-labelledby="tickets-title">
      <div className="page-heading">
        <h1 id="tickets-title">Tickets</h1>
        {canEditTickets(me) && (
          <Link className="button" to="/tickets/new">
            New ticket
          </Link>
        )}
      </div>

      <search aria-label="Filter tickets">
        <form className="filters" onSubmit={applyFilters}>
          <div className="field field-grow">
            <label htmlFor="filter-q">Search</label>
            <input
              id="filter-q"
              type="search"
              placeholder="Subject or description"
              value={draft.q ?? ''}
              onChange={(e) => setField('q')(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="filter-status">Status</label>
            <select id="filter-status" value={draft.status ?? ''} onChange={(e) => setField('status')(e.target.value)}>
              <option value="">Any status</option>
              <StatusOptions />
            </select>
          </div>
          <div className="field">
            <label htmlFor="filter-priority">Priority</label>
            <select
              id="filter-priority"
              value={draft.priority ?? ''}
              onChange={(e) => setField('priority')(e.target.value)}
            >
              <option value="">Any priority</option>
              <PriorityOptions />
            </select>
          </div>
          <div className="field">
            <label htmlFor="filter-assignee">Assignee</label>
            <select
              id="filter-assignee"
              value={draft.assigneeId ?? ''}
              onChange={(e) => setField('assigneeId')(e.target.value)}
            >
              <option value="">Anyone</option>
              {members.data?.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.name || m.email}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="filter-tag">Tag</label>
            <input
              id="filter-tag"
              type="text"
              value={draft.tag ?? ''}
              onChange={(e) => setField('tag')(e.target.value)}
            />
          </div>
          <div className="filter-actions">
            <button type="submit">Apply filters</button>
            <button type="button" className="button-secondary" onClick={clearFilters}>
              Clear
            </button>
          </div>
        </form>
      </search>
      {members.error && <ErrorNotice message={`Could not load the assignee list: ${members.error}`} />}

      {error && <ErrorNotice message={error} onRetry={() => setReloadCount((n) => n + 1)} />}
      {list && list.tickets.length === 0 && <p className="empty">No tickets match these filters.</p>}
      {list && list.tickets.length > 0 && (
        <table className="ticket-table">
          <caption className="visually-hidden">Tickets, newest first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Subject</th>
              <th scope="col">Status</th>
              <th scope="col">Priority</th>
              <th scope="col">Assignee</th>
              <th scope="col">Tags</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.tickets.map((t) => (
              <tr key={t.id}>
                <td className="ticket-number">{t.number}</td>
                <td>
                  <Link className="ticket-link" to={`/tickets/${t.id}`}>
                    {t.subject}
                  </Link>
                  {t.requester && <div className="muted">{t.requester.name || t.requester.email}</div>}
                </td>
                <td>
                  <StatusBadge status={t.status} />
                </td>
                <td>
                  <PriorityBadge priority={t.priority} />
                </td>
                <td>{memberName(members.data, t.assigneeId)}</td>
                <td>
                  {t.tags.map((tag) => (
                    <span key={tag} className="tag">
                      {tag}
                    </span>
                  ))}
                </td>
                <td>{formatTime(t.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loading && <Loading what="tickets" />}
      {list?.nextCursor && !loading && (
        <div className="load-more">
          <button type="button" className="button-secondary" onClick={() => void loadMore()}>
            Load more
          </button>
        </div>
      )}
    </section>
  );
}
