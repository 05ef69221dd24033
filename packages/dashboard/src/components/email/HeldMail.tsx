// Mail the mailboxes did not file. Held: it failed DMARC under a mailbox's "hold" policy and waits for an agent to
// release it (it is then filed as if it had passed) or discard it (its sealed copy is erased). Refused: malformed or
// too large, with the reason; nothing to decide, but an admin can see what never became a ticket.
import { useState } from 'react';
import { Link } from 'react-router';
import {
  describeError,
  discardInboundEmail,
  type InboundEmail,
  listInboundEmails,
  listIntegrations,
  releaseInboundEmail,
} from '../../api.ts';
import { verdictsOf, verdictTone } from '../../email.ts';
import { formatBytes, formatTime } from '../../format.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading, SuccessNotice } from '../Notices.tsx';

type Tab = 'held' | 'refused';

function HeldItem({
  item,
  mailbox,
  onDecided,
}: {
  item: InboundEmail;
  mailbox: string;
  onDecided: (message: string, ticketId: string | null) => void;
}) {
  const [busy, setBusy] = useState<'release' | 'discard' | null>(null);
  const [confirmingDiscard, setConfirmingDiscard] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const what = item.subject ? `“${item.subject}”` : 'the message';

  async function decide(action: 'release' | 'discard') {
    setBusy(action);
    setError(null);
    try {
      if (action === 'release') {
        const result = await releaseInboundEmail(item.id);
        onDecided(`Released ${what}: it was filed.`, result.ticketId);
      } else {
        await discardInboundEmail(item.id);
        onDecided(`Discarded ${what}.`, null);
      }
    } catch (e) {
      setError(describeError(e));
      setBusy(null);
    }
  }

  return (
    <li className="card held-item" aria-label={item.subject ?? item.messageId}>
      <header className="held-header">
        <h3>{item.subject || <span className="muted">(no subject)</span>}</h3>
        <time className="held-time" dateTime={item.receivedAt}>
          {formatTime(item.receivedAt)}
        </time>
      </header>
      <dl className="details">
        <dt>From</dt>
        <dd>{item.from ?? '—'}</dd>
        <dt>Mailbox</dt>
        <dd>
          {mailbox} <span className="muted">(by {item.via})</span>
        </dd>
        {item.sizeBytes !== null && (
          <>
            <dt>Size</dt>
            <dd>{formatBytes(item.sizeBytes)}</dd>
          </>
        )}
        <dt>Why</dt>
        <dd>{item.reason ?? '—'}</dd>
        {item.status !== 'held' && item.status !== 'refused' && (
          <>
            <dt>Decided</dt>
            <dd>{formatTime(item.decidedAt)}</dd>
          </>
        )}
      </dl>
      {item.auth && (
        <ul className="email-verdicts" aria-label="Sender authentication">
          {verdictsOf(item.auth).map((v) => (
            <li key={v.name} className={`badge verdict verdict-${verdictTone(v.verdict)}`}>
              {v.name} {v.verdict}
            </li>
          ))}
        </ul>
      )}
      {error && <ErrorNotice message={error} />}
      {item.status === 'held' && (
        <div className="form-actions">
          <button type="button" onClick={() => void decide('release')} disabled={busy !== null}>
            {busy === 'release' ? 'Releasing…' : 'Release'}
          </button>
          {confirmingDiscard ? (
            <span className="confirm-delete">
              <span>Discard for good?</span>
              <button
                type="button"
                className="button-danger"
                onClick={() => void decide('discard')}
                disabled={busy !== null}
              >
                {busy === 'discard' ? 'Discarding…' : 'Discard'}
              </button>
              <button type="button" className="button-secondary" onClick={() => setConfirmingDiscard(false)}>
                Keep
              </button>
            </span>
          ) : (
            <button
              type="button"
              className="button-secondary"
              onClick={() => setConfirmingDiscard(true)}
              disabled={busy !== null}
            >
              Discard
            </button>
          )}
        </div>
      )}
    </li>
  );
}

export function HeldMail() {
  const [tab, setTab] = useState<Tab>('held');
  const list = useLoader(`inbound:${tab}`, async () => (await listInboundEmails(tab)).data);
  const mailboxes = useLoader('email-mailbox-names', async () =>
    (await listIntegrations()).data.filter((i) => i.integrationType === 'email'),
  );
  const [decided, setDecided] = useState<{ message: string; ticketId: string | null } | null>(null);
  const nameOf = (integrationId: string) =>
    mailboxes.data?.find((m) => m.id === integrationId)?.name ?? 'a deleted mailbox';

  return (
    <section aria-labelledby="held-mail-title" className="held-mail">
      <div className="page-heading">
        <h1 id="held-mail-title">Held mail</h1>
      </div>
      <p className="muted">
        Mail a mailbox did not turn into a ticket: held because it failed DMARC (the mailbox's policy is to hold such
        mail for review), or refused because it could not be read.
      </p>
      <div className="tabs" role="tablist" aria-label="Which mail">
        {(['held', 'refused'] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={tab === t ? 'tab tab-selected' : 'tab'}
            onClick={() => {
              setTab(t);
              setDecided(null);
            }}
          >
            {t === 'held' ? 'Held for review' : 'Refused'}
          </button>
        ))}
      </div>
      <div aria-live="polite">
        {decided && <SuccessNotice message={decided.message} />}
        {decided?.ticketId && (
          <p>
            <Link to={`/tickets/${decided.ticketId}`}>Open the ticket</Link>
          </p>
        )}
      </div>
      <div role="tabpanel" aria-label={tab === 'held' ? 'Held for review' : 'Refused'}>
        {list.loading && !list.data && <Loading what="the mail" />}
        {list.error && <ErrorNotice message={list.error} onRetry={() => void list.reload()} />}
        {list.data && list.data.length === 0 && (
          <p className="empty">{tab === 'held' ? 'No mail waits for review.' : 'No mail was refused.'}</p>
        )}
        {list.data && list.data.length > 0 && (
          <ul className="held-list" aria-label={tab === 'held' ? 'Held mail' : 'Refused mail'}>
            {list.data.map((item) => (
              <HeldItem
                key={item.id}
                item={item}
                mailbox={nameOf(item.integrationId)}
                onDecided={(message, ticketId) => {
                  setDecided({ message, ticketId });
                  void list.reload();
                }}
              />
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
