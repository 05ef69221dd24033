// The Linear issues linked to a ticket: each with its identifier (a link to Linear), title, state, assignee and
// sync status, plus creating an issue, linking an existing one and unlinking. The list polls every few seconds
// while the page is visible, so a change made in Linear shows up here without a reload; when a link changes, the
// page is told (the sync may have changed the ticket too).
import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import {
  ApiError,
  createLinearLink,
  deleteLinearLink,
  describeError,
  type Integration,
  type LinearLink,
  listIntegrations,
  listLinearLinks,
} from '../../api.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, FieldError, Loading } from '../Notices.tsx';
import { ExternalSyncStatus } from './ExternalSyncStatus.tsx';

export const LINK_POLL_MS = 2000;

/** What, if it changed, means the sync did something the rest of the page may show. */
function signature(links: LinearLink[]): string {
  return JSON.stringify(links.map((l) => [l.id, l.state?.name, l.syncStatus, l.lastSyncAt, l.assignee?.email]));
}

function newKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

type Props = {
  ticketId: string;
  /** Agents and admins may create, link, unlink and retry; viewers only see. */
  canEdit: boolean;
  /** A link appeared, went or synced: the ticket itself may have changed. */
  onLinksChanged?: () => void;
};

export function LinearIssueLink({ ticketId, canEdit, onLinksChanged }: Props) {
  const id = useId();
  const installations = useLoader('linear-installations', async () =>
    (await listIntegrations()).data.filter((i) => i.integrationType === 'linear'),
  );
  // An organisation that never connected Linear has nothing to show or poll here.
  const usesLinear = installations.data ? installations.data.length > 0 : installations.error !== null;
  const [links, setLinks] = useState<LinearLink[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [chosen, setChosen] = useState('');
  const [creating, setCreating] = useState<'request' | 'background' | null>(null);
  const [createError, setCreateError] = useState<string | null>(null);
  const [issue, setIssue] = useState('');
  const [linking, setLinking] = useState(false);
  const [linkError, setLinkError] = useState<string | null>(null);
  const [confirmUnlink, setConfirmUnlink] = useState<string | null>(null);
  const [unlinkError, setUnlinkError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  // One key per intended creation: a retry after a lost answer returns the same issue instead of a second one.
  const createKey = useRef<string | null>(null);
  const countBeforeCreate = useRef(0);
  const latest = useRef(0);
  const seen = useRef<string | null>(null);
  const settleReload = useRef(false);
  const changed = useRef(onLinksChanged);
  changed.current = onLinksChanged;

  const load = useCallback(async () => {
    const request = ++latest.current;
    try {
      const { data } = await listLinearLinks(ticketId);
      if (request !== latest.current) return;
      setLinks(data);
      setLoadError(null);
      const now = signature(data);
      if (seen.current !== null && seen.current !== now) {
        changed.current?.();
        // The link and the ticket are written one after the other: look at the ticket once more on the next round.
        settleReload.current = true;
      } else if (settleReload.current) {
        settleReload.current = false;
        changed.current?.();
      }
      seen.current = now;
    } catch (e) {
      if (request === latest.current) setLoadError(describeError(e));
    }
  }, [ticketId]);

  useEffect(() => {
    if (!usesLinear) return;
    seen.current = null;
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, LINK_POLL_MS);
    const onVisible = () => {
      if (document.visibilityState === 'visible') void load();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
      latest.current++;
    };
  }, [load, usesLinear]);

  // A creation that went on in the background is done once the list has a link more than before.
  useEffect(() => {
    if (creating === 'background' && links && links.length > countBeforeCreate.current) {
      setCreating(null);
      setMessage('Linear issue created.');
    }
  }, [creating, links]);

  const available: Integration[] = (installations.data ?? []).filter((i) => i.isActive);
  const integrationId = available.length > 1 ? chosen || available[0]?.id : undefined;

  async function create() {
    setCreateError(null);
    setLinkError(null);
    setMessage(null);
    setCreating('request');
    countBeforeCreate.current = links?.length ?? 0;
    createKey.current ??= newKey();
    try {
      const result = await createLinearLink(ticketId, {
        action: 'create',
        idempotencyKey: createKey.current,
        ...(integrationId ? { integrationId } : {}),
      });
      createKey.current = null;
      if ('pending' in result) {
        setCreating('background');
      } else {
        setCreating(null);
        setMessage(result.identifier ? `Linear issue ${result.identifier} created.` : 'Linear issue created.');
      }
      await load();
    } catch (e) {
      // A refusal (4xx) will not change by repeating the request: the next attempt is a new creation.
      if (e instanceof ApiError && e.status < 500) createKey.current = null;
      setCreating(null);
      setCreateError(describeError(e));
    }
  }

  async function linkExisting(event: FormEvent) {
    event.preventDefault();
    setLinkError(null);
    setMessage(null);
    const value = issue.trim();
    if (!value) {
      setLinkError('Enter an issue identifier such as ENG-123, or paste the issue’s URL.');
      return;
    }
    setLinking(true);
    try {
      const result = await createLinearLink(ticketId, {
        action: 'link',
        issue: value,
        ...(integrationId ? { integrationId } : {}),
      });
      setIssue('');
      setMessage('pending' in result ? `Linking ${value}…` : `${result.identifier ?? value} linked.`);
      await load();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404)
        setLinkError(`Linear has no issue ${value} that Switchboard can see.`);
      else if (e instanceof ApiError && e.details.length > 0) setLinkError(e.details.map((d) => d.message).join('; '));
      else setLinkError(describeError(e));
    } finally {
      setLinking(false);
    }
  }

  async function unlink(link: LinearLink) {
    setConfirmUnlink(null);
    setUnlinkError(null);
    setMessage(null);
    try {
      await deleteLinearLink(ticketId, link.id);
      setMessage(`${link.identifier ?? 'The issue'} unlinked.`);
      await load();
    } catch (e) {
      setUnlinkError(describeError(e));
    }
  }

  const noInstallation = installations.data !== undefined && available.length === 0;
  if (!usesLinear) return null;

  return (
    <section className="card linear-links" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Linear</h2>
      {links === null && !loadError && <Loading what="linked Linear issues" />}
      {loadError && <ErrorNotice message={loadError} onRetry={() => void load()} />}
      <div aria-live="polite">
        {message && <p className="notice notice-success">{message}</p>}
        {creating && (
          <p className="notice notice-loading" role="status">
            Creating the Linear issue…
          </p>
        )}
      </div>
      {links && links.length === 0 && <p className="empty">No Linear issue is linked to this ticket.</p>}
      {links && links.length > 0 && (
        <ul className="linear-link-list" aria-label="Linked Linear issues">
          {links.map((link) => {
            const name = link.identifier ?? link.issueId;
            return (
              <li key={link.id} className="linear-link">
                <div className="linear-link-heading">
                  {link.url ? (
                    <a className="linear-identifier" href={link.url} target="_blank" rel="noreferrer">
                      {name}
                      <span className="visually-hidden"> (opens Linear in a new tab)</span>
                    </a>
                  ) : (
                    <span className="linear-identifier">{name}</span>
                  )}{' '}
                  {link.title && <span className="linear-title">{link.title}</span>}
                </div>
                <dl className="details linear-link-details">
                  <dt>State</dt>
                  <dd className="linear-state" data-state-type={link.state?.type}>
                    {link.state?.name ?? '—'}
                  </dd>
                  <dt>Assignee</dt>
                  <dd>{link.assignee ? link.assignee.name || link.assignee.email : 'Unassigned'}</dd>
                </dl>
                <ExternalSyncStatus ticketId={ticketId} link={link} canRetry={canEdit} onRetried={() => void load()} />
                {canEdit &&
                  (confirmUnlink === link.id ? (
                    <div className="confirm-delete">
                      <p>Unlink {name}? Nothing is deleted in Linear; the ticket and the issue stop syncing.</p>
                      <button type="button" className="button-danger" onClick={() => void unlink(link)}>
                        Confirm unlink
                      </button>
                      <button type="button" className="button-secondary" onClick={() => setConfirmUnlink(null)}>
                        Keep link
                      </button>
                    </div>
                  ) : (
                    <button
                      type="button"
                      className="button-secondary"
                      aria-label={`Unlink ${name}`}
                      onClick={() => setConfirmUnlink(link.id)}
                    >
                      Unlink
                    </button>
                  ))}
              </li>
            );
          })}
        </ul>
      )}
      {unlinkError && <ErrorNotice message={unlinkError} />}

      {canEdit && noInstallation && (
        <p className="muted">
          No active Linear installation. An admin can connect Linear in{' '}
          <Link to="/settings/integrations">Integrations</Link>.
        </p>
      )}
      {installations.error && <ErrorNotice message={installations.error} onRetry={() => void installations.reload()} />}
      {canEdit && available.length > 0 && (
        <div className="linear-link-actions">
          {available.length > 1 && (
            <div className="field">
              <label htmlFor={`${id}-installation`}>Linear workspace</label>
              <select id={`${id}-installation`} value={integrationId} onChange={(e) => setChosen(e.target.value)}>
                {available.map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.name}
                  </option>
                ))}
              </select>
            </div>
          )}
          <button type="button" onClick={() => void create()} disabled={creating !== null}>
            {creating ? 'Creating…' : 'Create Linear issue'}
          </button>
          {createError && (
            <p className="field-error" role="alert">
              {createError}
            </p>
          )}
          <form
            className="linear-link-form"
            aria-label="Link an existing Linear issue"
            onSubmit={linkExisting}
            noValidate
          >
            <div className="field">
              <label htmlFor={`${id}-issue`}>Link existing issue</label>
              <div className="secret-row">
                <input
                  id={`${id}-issue`}
                  value={issue}
                  placeholder="ENG-123 or issue URL"
                  onChange={(e) => setIssue(e.target.value)}
                  aria-invalid={linkError ? true : undefined}
                  aria-describedby={linkError ? `${id}-issue-error` : undefined}
                />
                <button type="submit" className="button-secondary" disabled={linking}>
                  {linking ? 'Linking…' : 'Link'}
                </button>
              </div>
              <FieldError id={`${id}-issue-error`} message={linkError} />
            </div>
          </form>
        </div>
      )}
    </section>
  );
}
