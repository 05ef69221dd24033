// Every integration at a glance (issue 13): its state, last success, last error and why, the error rate of the last
// hour, its backlog, why it is paused or disconnected, a sparkline of its outcomes over six hours, and links to its
// workflows in the Temporal Web UI and (where tickets carry one) to the per-ticket sync state. Reloads every
// minute, the rate at which the server samples.
import { useEffect } from 'react';
import { Link } from 'react-router';
import { getIntegrationHealth, type IntegrationHealthItem } from '../../api.ts';
import { formatTime } from '../../format.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading } from '../Notices.tsx';

const RELOAD_MS = 60_000;

const labels: Record<IntegrationHealthItem['status'], string> = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  failing: 'Failing',
  disconnected: 'Disconnected',
  disabled: 'Disabled',
  unknown: 'Not used yet',
};

function percent(rate: number | null): string {
  if (rate === null) return 'no calls';
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 1 : 0)}%`;
}

/** Outcomes per point as bars: successes up from the middle line, errors down from it, each scaled to the busiest. */
export function HealthSparkline({ history, label }: { history: IntegrationHealthItem['history']; label: string }) {
  const width = 120;
  const height = 28;
  const middle = height / 2;
  const step = width / Math.max(history.length, 1);
  const most = Math.max(1, ...history.map((p) => Math.max(p.successes, p.errors)));
  const errors = history.reduce((n, p) => n + p.errors, 0);
  const successes = history.reduce((n, p) => n + p.successes, 0);
  return (
    <svg
      className="health-sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`${label}: ${successes} successes and ${errors} errors over six hours`}
    >
      <line x1={0} x2={width} y1={middle} y2={middle} className="sparkline-axis" />
      {history.map((p, i) => (
        <g key={p.at}>
          {p.successes > 0 && (
            <rect
              className="sparkline-success"
              x={i * step + 0.5}
              width={Math.max(step - 1, 1)}
              y={middle - (p.successes / most) * (middle - 1)}
              height={(p.successes / most) * (middle - 1)}
            />
          )}
          {p.errors > 0 && (
            <rect
              className="sparkline-error"
              x={i * step + 0.5}
              width={Math.max(step - 1, 1)}
              y={middle}
              height={(p.errors / most) * (middle - 1)}
            />
          )}
        </g>
      ))}
    </svg>
  );
}

function HealthRow({ item }: { item: IntegrationHealthItem }) {
  return (
    <tr data-testid={`health-${item.key}`} className={`health-row health-row-${item.status}`}>
      <th scope="row">
        {item.label}
        <div className="muted">
          {item.integrationId ? item.integrationType : `${item.integrationType} · deployment`}
        </div>
      </th>
      <td>
        <span className={`badge health-${item.status}`}>{labels[item.status]}</span>
        {item.stoppedReason && <p className="hint health-stopped">{item.stoppedReason}</p>}
      </td>
      <td>{formatTime(item.lastSuccessAt)}</td>
      <td>
        {item.lastError ? (
          <>
            <span className="muted">{formatTime(item.lastErrorAt)}</span>
            <p className="health-error">{item.lastError}</p>
          </>
        ) : (
          '—'
        )}
      </td>
      <td>
        <span className="health-rate">{percent(item.lastHour.errorRate)}</span>
        <div className="muted">
          {item.lastHour.errors} of {item.lastHour.successes + item.lastHour.errors}
        </div>
      </td>
      <td>
        {item.backlog ? (
          <>
            <span className="health-backlog">{item.backlog.count}</span>
            <div className="muted">{item.backlog.description}</div>
          </>
        ) : (
          '—'
        )}
      </td>
      <td>
        <HealthSparkline history={item.history} label={item.label} />
      </td>
      <td>
        {/* A block inside the cell, not a flex cell: a table cell that is not display: table-cell loses its borders. */}
        <div className="health-links">
          <a href={item.workflowsUrl} target="_blank" rel="noreferrer">
            Workflows
          </a>
          {item.ticketLevelSync && (
            <Link to="/tickets" title="Each linked ticket shows its sync state (ExternalSyncStatus) on its page">
              Ticket sync
            </Link>
          )}
        </div>
      </td>
    </tr>
  );
}

export function IntegrationHealthMonitor() {
  const health = useLoader('integration-health', getIntegrationHealth);
  const { reload } = health;
  useEffect(() => {
    const timer = setInterval(() => void reload(), RELOAD_MS);
    return () => clearInterval(timer);
  }, [reload]);

  const items = health.data?.data ?? [];
  const attention = items.filter((i) => i.status === 'failing' || i.status === 'disconnected').length;
  return (
    <section className="card integration-health-monitor" aria-labelledby="health-monitor-title">
      <h2 id="health-monitor-title">Integration health</h2>
      {health.error && <ErrorNotice message={health.error} />}
      {!health.data && health.loading && <Loading what="integration health" />}
      {health.data && (
        <>
          <p className="muted">
            {attention === 0
              ? 'Everything is working.'
              : `${attention} ${attention === 1 ? 'needs' : 'need'} attention.`}{' '}
            Sampled {formatTime(health.data.sampledAt)}; error rate and history count every call to the third party.
          </p>
          <div className="table-scroll">
            <table className="health-table">
              <thead>
                <tr>
                  <th scope="col">Integration</th>
                  <th scope="col">State</th>
                  <th scope="col">Last success</th>
                  <th scope="col">Last error</th>
                  <th scope="col">Errors, last hour</th>
                  <th scope="col">Backlog</th>
                  <th scope="col">Last 6 hours</th>
                  <th scope="col">Links</th>
                </tr>
              </thead>
              <tbody>
                {items.map((item) => (
                  <HealthRow key={item.key} item={item} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
