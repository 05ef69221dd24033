// How an endpoint is doing: its health badge, success rate over the last day, last attempt, and why it was
// disabled when it was.
import type { WebhookEndpoint } from '../../api.ts';
import { formatTime } from '../../format.ts';

const labels: Record<WebhookEndpoint['health']['status'], string> = {
  healthy: 'Healthy',
  failing: 'Failing',
  unknown: 'No deliveries yet',
  disabled: 'Disabled',
};

export function formatSuccessRate(rate: number | null): string {
  if (rate === null) return '—';
  // 0.9995 must not read as 100 %: only a perfect record shows a whole 100.
  const percent = rate * 100;
  return `${percent === 100 || percent === 0 ? percent : Math.floor(percent * 10) / 10} %`;
}

export function EndpointHealth({ endpoint }: { endpoint: WebhookEndpoint }) {
  const { health } = endpoint;
  return (
    <div className="webhook-health">
      <div className="badges">
        {/* A disabled endpoint with a reason says it once, with the reason. */}
        {!(health.status === 'disabled' && endpoint.disabledReason) && (
          <span className={`badge health-${health.status}`}>{labels[health.status]}</span>
        )}
        {endpoint.disabledReason ? (
          <span className="badge badge-inactive">Disabled: {endpoint.disabledReason}</span>
        ) : (
          !endpoint.enabled && health.status !== 'disabled' && <span className="badge badge-inactive">Disabled</span>
        )}
      </div>
      <dl className="details webhook-health-figures">
        <dt>Success rate (24 h)</dt>
        <dd>{formatSuccessRate(health.successRate24h)}</dd>
        <dt>Last attempt</dt>
        <dd>{formatTime(health.lastAttemptAt)}</dd>
        <dt>Last success</dt>
        <dd>{formatTime(health.lastSuccessAt)}</dd>
      </dl>
      {health.lastError && <p className="health-error">Last error: {health.lastError}</p>}
    </div>
  );
}
