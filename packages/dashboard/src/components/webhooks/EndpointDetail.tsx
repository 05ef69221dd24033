// One endpoint: its health and settings, and (for admins) sending a test event, editing, enabling or disabling,
// rotating the secret and deleting it; below, what happened to it and its delivery log.
import { useCallback, useState } from 'react';
import {
  deleteWebhookEndpoint,
  describeError,
  getWebhookEndpoint,
  sendWebhookTestEvent,
  updateWebhookEndpoint,
  type WebhookEndpoint,
} from '../../api.ts';
import { formatTime } from '../../format.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading, SuccessNotice } from '../Notices.tsx';
import { DeliveryLog } from './DeliveryLog.tsx';
import { EndpointEvents } from './EndpointEvents.tsx';
import { EndpointForm } from './EndpointForm.tsx';
import { EndpointHealth } from './EndpointHealth.tsx';
import { RotateSecretForm } from './RotateSecretForm.tsx';

type Props = {
  endpointId: string;
  canManage: boolean;
  /** After a change, so a list showing this endpoint can reload. */
  onChanged?: (endpoint: WebhookEndpoint) => void;
  onDeleted: () => void;
  onClose: () => void;
  /** What closing is called where the detail is shown ("Back to endpoints" on the webhooks page). */
  closeLabel?: string;
};

type Panel = 'none' | 'edit' | 'rotate' | 'confirm-delete';

export function EndpointDetail({
  endpointId,
  canManage,
  onChanged,
  onDeleted,
  onClose,
  closeLabel = 'Back to endpoints',
}: Props) {
  const endpoint = useLoader(`webhook-endpoint-${endpointId}`, () => getWebhookEndpoint(endpointId));
  const [panel, setPanel] = useState<Panel>('none');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  // Bumped whenever something here queues a delivery or records an endpoint event, so those sections reload.
  const [refreshKey, setRefreshKey] = useState(0);
  const { reload } = endpoint;
  // Settled deliveries change the health, and may have disabled the endpoint (410, failing too long).
  const afterDeliveriesSettled = useCallback(() => {
    void reload();
    setRefreshKey((k) => k + 1);
  }, [reload]);

  async function run(action: () => Promise<string>) {
    setBusy(true);
    setMessage(null);
    setActionError(null);
    try {
      const success = await action();
      await endpoint.reload();
      setRefreshKey((k) => k + 1);
      setMessage(success);
    } catch (e) {
      setActionError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  if (endpoint.loading && !endpoint.data) return <Loading what="webhook endpoint" />;
  if (endpoint.error && !endpoint.data) {
    return (
      <div>
        <ErrorNotice
          message={endpoint.errorStatus === 404 ? 'This webhook endpoint no longer exists.' : endpoint.error}
          onRetry={endpoint.errorStatus === 404 ? undefined : () => void endpoint.reload()}
        />
        <button type="button" className="button-secondary" onClick={onClose}>
          {closeLabel}
        </button>
      </div>
    );
  }
  const current = endpoint.data;
  if (!current) return null;

  return (
    <article className="webhook-endpoint-detail" aria-labelledby={`endpoint-title-${current.id}`}>
      <div className="section-heading">
        <h2 id={`endpoint-title-${current.id}`} className="endpoint-url">
          {current.url}
        </h2>
        <button type="button" className="button-secondary" onClick={onClose}>
          {closeLabel}
        </button>
      </div>
      {current.description && <p>{current.description}</p>}
      <EndpointHealth endpoint={current} />
      <dl className="details endpoint-settings">
        <dt>Event types</dt>
        <dd>
          {current.eventTypes.map((t) => (
            <code key={t} className="tag">
              {t}
            </code>
          ))}
        </dd>
        <dt>Throttle</dt>
        <dd>
          {current.rateLimitPerSecond} requests/s, {current.maxConcurrency} in parallel
        </dd>
        <dt>Internal notes</dt>
        <dd>{current.excludeInternalNotes ? 'Left out' : 'Sent (comment.created)'}</dd>
        <dt>Signing secret</dt>
        <dd>{current.secretHint ? <code>{current.secretHint}</code> : '—'}</dd>
        {current.headerNames.length > 0 && (
          <>
            <dt>Custom headers</dt>
            <dd>{current.headerNames.join(', ')}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{formatTime(current.createdAt)}</dd>
      </dl>

      {canManage && (
        <div className="integration-actions endpoint-actions">
          <button
            type="button"
            disabled={busy || !current.enabled}
            aria-describedby={current.enabled ? undefined : `test-disabled-${current.id}`}
            onClick={() =>
              void run(async () => {
                await sendWebhookTestEvent(current.id);
                return 'Test event queued. It appears in the delivery log below.';
              })
            }
          >
            Send test event
          </button>
          <button type="button" className="button-secondary" onClick={() => setPanel('edit')}>
            Edit
          </button>
          <button
            type="button"
            className="button-secondary"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                const saved = await updateWebhookEndpoint(current.id, { enabled: !current.enabled });
                onChanged?.(saved);
                return saved.enabled ? 'Endpoint enabled.' : 'Endpoint disabled: nothing is sent to it until enabled.';
              })
            }
          >
            {current.enabled ? 'Disable' : 'Enable'}
          </button>
          <button type="button" className="button-secondary" onClick={() => setPanel('rotate')}>
            Rotate secret
          </button>
          {panel === 'confirm-delete' ? (
            <span className="confirm-delete">
              <span>Delete this endpoint and its delivery log?</span>
              <button
                type="button"
                className="button-danger"
                disabled={busy}
                onClick={() => {
                  setBusy(true);
                  setActionError(null);
                  deleteWebhookEndpoint(current.id).then(onDeleted, (e: unknown) => {
                    setActionError(describeError(e));
                    setBusy(false);
                  });
                }}
              >
                Confirm delete
              </button>
              <button type="button" className="button-secondary" onClick={() => setPanel('none')}>
                Keep it
              </button>
            </span>
          ) : (
            <button type="button" className="button-secondary" onClick={() => setPanel('confirm-delete')}>
              Delete
            </button>
          )}
        </div>
      )}

      {canManage && !current.enabled && (
        <p id={`test-disabled-${current.id}`} className="hint">
          Nothing is sent to a disabled endpoint: enable it to send a test event or resend deliveries.
        </p>
      )}
      <div aria-live="polite">{message && <SuccessNotice message={message} />}</div>
      {actionError && <ErrorNotice message={actionError} />}

      {panel === 'edit' && (
        <section className="card" aria-label="Edit endpoint">
          <EndpointForm
            endpoint={current}
            onSubmit={async (input) => {
              const saved = await updateWebhookEndpoint(current.id, input);
              onChanged?.(saved);
              setPanel('none');
              await endpoint.reload();
              setRefreshKey((k) => k + 1);
              setMessage('Endpoint saved.');
            }}
            onCancel={() => setPanel('none')}
          />
        </section>
      )}
      {panel === 'rotate' && (
        <section className="card" aria-label="Rotate secret">
          <RotateSecretForm
            endpointId={current.id}
            onRotated={() => {
              void endpoint.reload();
              setRefreshKey((k) => k + 1);
            }}
            onClose={() => setPanel('none')}
          />
        </section>
      )}

      <EndpointEvents endpointId={current.id} refreshKey={refreshKey} />
      <DeliveryLog
        endpointId={current.id}
        canManage={canManage}
        refreshKey={refreshKey}
        onSettled={afterDeliveriesSettled}
      />
    </article>
  );
}
