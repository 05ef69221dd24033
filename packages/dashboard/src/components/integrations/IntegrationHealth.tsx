// An integration's health as a badge, with the last error when there is one.
import type { Integration } from '../../api.ts';
import { formatTime } from '../../format.ts';

const labels: Record<Integration['health']['status'], string> = {
  healthy: 'Healthy',
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
      {health.disabledReason && <p className="health-error">Disabled: {health.disabledReason}</p>}
      {health.lastError && (
        <p className="health-error">
          Last error ({formatTime(health.lastErrorAt)}): {health.lastError}
        </p>
      )}
    </div>
  );
}
