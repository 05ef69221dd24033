// What happened to the endpoint itself: disabled automatically (and why), enabled again, secret rotated.
import { listWebhookEndpointEvents, type WebhookEndpointEvent } from '../../api.ts';
import { formatTime } from '../../format.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading } from '../Notices.tsx';

const labels: Record<string, string> = {
  'endpoint.created': 'Endpoint created',
  'endpoint.disabled': 'Endpoint disabled',
  'endpoint.enabled': 'Endpoint enabled',
  'secret.rotated': 'Signing secret rotated',
};

/** The reason a disabled event carries, when its payload names one. */
function reasonOf(event: WebhookEndpointEvent): string | null {
  const payload = event.payload as { reason?: unknown } | null;
  return payload && typeof payload.reason === 'string' ? payload.reason : null;
}

export function EndpointEvents({ endpointId, refreshKey }: { endpointId: string; refreshKey: number }) {
  const events = useLoader(`webhook-events-${endpointId}-${refreshKey}`, async () => {
    return (await listWebhookEndpointEvents(endpointId)).data;
  });
  return (
    <section className="endpoint-events" aria-labelledby={`endpoint-events-${endpointId}`}>
      <h3 id={`endpoint-events-${endpointId}`}>Endpoint events</h3>
      {events.loading && !events.data && <Loading what="endpoint events" />}
      {events.error && <ErrorNotice message={events.error} onRetry={() => void events.reload()} />}
      {events.data && events.data.length === 0 && <p className="empty">Nothing has happened to this endpoint yet.</p>}
      {events.data && events.data.length > 0 && (
        <ul className="endpoint-event-list" aria-label="Endpoint events">
          {events.data.map((event) => {
            const reason = reasonOf(event);
            return (
              <li key={event.id} className={`endpoint-event endpoint-event-${event.type.replace('.', '-')}`}>
                <strong>{labels[event.type] ?? event.type}</strong>{' '}
                <time dateTime={event.createdAt} className="muted">
                  {formatTime(event.createdAt)}
                </time>
                {reason && <p className="health-error">{reason}</p>}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
