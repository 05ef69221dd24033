// The organisation's webhook endpoints at a glance: where each sends, whether it is healthy, how often its
// deliveries succeed, and why it was disabled when it was.
import type { WebhookEndpoint } from '../../api.ts';
import { formatTime } from '../../format.ts';
import { formatSuccessRate } from './EndpointHealth.tsx';

const healthLabels: Record<WebhookEndpoint['health']['status'], string> = {
  healthy: 'Healthy',
  failing: 'Failing',
  unknown: 'No deliveries yet',
  disabled: 'Disabled',
};

export function EndpointList({ endpoints, onOpen }: { endpoints: WebhookEndpoint[]; onOpen: (id: string) => void }) {
  return (
    <ul className="integration-list webhook-endpoint-list" aria-label="Webhook endpoints">
      {endpoints.map((endpoint) => (
        <li key={endpoint.id} className="card integration-item webhook-endpoint-item">
          <div className="integration-summary">
            <h3 className="endpoint-url">{endpoint.url}</h3>
            {!(endpoint.health.status === 'disabled' && endpoint.disabledReason) && (
              <span className={`badge health-${endpoint.health.status}`}>{healthLabels[endpoint.health.status]}</span>
            )}
            {endpoint.disabledReason ? (
              <span className="badge badge-inactive">Disabled: {endpoint.disabledReason}</span>
            ) : (
              !endpoint.enabled &&
              endpoint.health.status !== 'disabled' && <span className="badge badge-inactive">Disabled</span>
            )}
          </div>
          <p className="integration-meta">
            {endpoint.description ? `${endpoint.description} · ` : ''}
            {endpoint.eventTypes.length} event {endpoint.eventTypes.length === 1 ? 'type' : 'types'} · success rate (24
            h) {formatSuccessRate(endpoint.health.successRate24h)} · last attempt{' '}
            {formatTime(endpoint.health.lastAttemptAt)}
          </p>
          {endpoint.health.lastError && <p className="health-error">Last error: {endpoint.health.lastError}</p>}
          <div className="integration-actions">
            <button
              type="button"
              className="button-secondary"
              // Below admin the URL is masked to scheme and host, which several endpoints may share: the
              // description tells them apart.
              aria-label={`Manage ${endpoint.url}${endpoint.description ? ` (${endpoint.description})` : ''}`}
              onClick={() => onOpen(endpoint.id)}
            >
              Manage
            </button>
          </div>
        </li>
      ))}
    </ul>
  );
}
