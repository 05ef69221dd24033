// An integration's health as a badge, with the last error when there is one.
import type { Integration } from '../../api.ts';
import { formatTime } from '../../format.ts';

const labels: Record<Integration['health']['status'], string> = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  failing: 'Failing',
  unknown: 'Not used yet',
  disabled: 'Disabled',
};

export function IntegrationHealth({ health }: { health: Integration['health'] }) {
  return (
    <div className="health">
      <span className="muted">Health </span>
      <span className={`badge health-${health.status}`}>{labels[health.status]}</span>
      {health.lastSuccessAt && <span className="muted"> last success {formatTime(health.lastSuccessAt)}</span>}
      {health.status === 'degraded' && (
        <p className="hint">
          {health.rateLimitedLinks === 1 ? '1 link waits' : `${health.rateLimitedLinks} links wait`} on the rate limit:
          their changes go out as soon as the request budget refills.
        </p>
      )}
      {health.disabledReason && <p className="health-error">Disabled: {health.disabledReason}</p>}
      {health.lastError && (
        <p className="health-error">
          Last error ({formatTime(health.lastErrorAt)}): {health.lastError}
        </p>
      )}
    </div>
  );
}
