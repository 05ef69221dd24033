// Every attempt of one delivery: when, how long, what the receiver answered (or why there was no answer).
import { getWebhookDelivery, type WebhookAttempt } from '../../api.ts';
import { humanize } from '../../format.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading } from '../Notices.tsx';

// Attempts of one delivery can be seconds apart, so their times show seconds.
const attemptTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function statusCodeText(attempt: WebhookAttempt): string {
  if (attempt.outcome === 'sending' || attempt.outcome === 'unknown') return '—';
  return attempt.statusCode === null ? 'no response' : `HTTP ${attempt.statusCode}`;
}

/** `unknown`: the request went out (or was about to) and the worker stopped before recording the answer. */
function outcomeText(attempt: WebhookAttempt): string {
  return attempt.outcome === 'unknown' ? 'outcome unknown (worker stopped)' : humanize(attempt.outcome);
}

type Props = {
  deliveryId: string;
  id: string;
  /** Changes when the delivery made progress (an attempt started or answered, a settled status): the attempts load
   * again. */
  version: string;
};

export function DeliveryAttempts({ deliveryId, id, version }: Props) {
  // The previous attempts stay on screen while the new list loads, so an open list does not flicker.
  const delivery = useLoader(`webhook-delivery-${deliveryId}-${version}`, () => getWebhookDelivery(deliveryId));
  return (
    <div id={id} className="delivery-attempts">
      {delivery.loading && !delivery.data && <Loading what="attempts" />}
      {delivery.error && <ErrorNotice message={delivery.error} onRetry={() => void delivery.reload()} />}
      {delivery.data && delivery.data.attempts.length === 0 && (
        <p className="empty">No attempt yet: the delivery is queued and will be sent shortly.</p>
      )}
      {delivery.data && delivery.data.attempts.length > 0 && (
        <table className="attempt-table">
          <caption className="visually-hidden">Attempts of delivery {deliveryId}</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Result</th>
              <th scope="col">Status code</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
              <th scope="col">Response</th>
            </tr>
          </thead>
          <tbody>
            {delivery.data.attempts.map((attempt) => (
              <tr key={attempt.id}>
                <td>{attempt.attemptNumber}</td>
                <td>{attemptTime.format(new Date(attempt.startedAt))}</td>
                <td>
                  <span className={`badge attempt-${attempt.outcome}`}>{outcomeText(attempt)}</span>
                </td>
                <td>{statusCodeText(attempt)}</td>
                <td>{attempt.durationMs === null ? '—' : `${attempt.durationMs} ms`}</td>
                <td>{attempt.errorClass ? <code>{attempt.errorClass}</code> : '—'}</td>
                <td>
                  {attempt.responseExcerpt ? <pre className="response-excerpt">{attempt.responseExcerpt}</pre> : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
