// The Linear installation wizard: connect (OAuth or a personal API key) → team → statuses both ways → priority →
// rules and policies → webhook → a test of the connection. Every step saves the config as edited with
// PATCH /api/integrations/{id}, sent as the merge patch (RFC 7396) from the stored config, so a mapping removed in
// the form is removed on the server and the fields the server sets are left alone. The OAuth callback brings the browser back to the integrations page with ?linear=connected|error, which
// IntegrationSettings turns into this wizard, opened for that installation.
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import {
  ApiError,
  createLinearApiKeyInstallation,
  describeError,
  disconnectLinear,
  type ErrorDetail,
  type Integration,
  type LinearActor,
  type LinearAutoCreateRule,
  type LinearConfig,
  type LinearConnectionTest,
  type LinearTeam,
  type LinearWebhookRegistration,
  type LinearWorkflowState,
  linearAuthorizeUrl,
  listIntegrations,
  listLinearTeams,
  registerLinearWebhook,
  setLinearWebhookSecret,
  type TicketPriority,
  type TicketStatus,
  testLinearInstallation,
  ticketPriorities,
  ticketStatuses,
  updateIntegration,
} from '../../api.ts';
import { humanize, parseTags } from '../../format.ts';
import { mergePatchBetween } from '../../merge-patch.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, FieldError, Loading, SuccessNotice } from '../Notices.tsx';
import type { IntegrationSetupProps } from './setupComponents.ts';

type Step = 'connect' | 'team' | 'statuses' | 'priority' | 'rules' | 'webhook' | 'done';

const steps: { id: Step; label: string }[] = [
  { id: 'connect', label: 'Connect' },
  { id: 'team', label: 'Team' },
  { id: 'statuses', label: 'Statuses' },
  { id: 'priority', label: 'Priority' },
  { id: 'rules', label: 'Rules' },
  { id: 'webhook', label: 'Webhook' },
  { id: 'done', label: 'Done' },
];

function nextStep(step: Step): Step {
  const i = steps.findIndex((s) => s.id === step);
  return steps[Math.min(i + 1, steps.length - 1)]?.id ?? 'done';
}

/** The query parameters the OAuth callback redirects back with. */
export const LINEAR_RETURN_PARAMS = ['linear', 'integration', 'reason'] as const;

const statusLabel = (s: TicketStatus) => {
  const text = humanize(s);
  return text.charAt(0).toUpperCase() + text.slice(1);
};

/** Linear's priorities are numbers (1 urgent … 4 low); the mapping is fixed, only whether it syncs is a choice. */
const priorityMapping: { ticket: TicketPriority; linear: string }[] = [
  { ticket: 'urgent', linear: 'Urgent' },
  { ticket: 'high', linear: 'High' },
  { ticket: 'normal', linear: 'Medium' },
  { ticket: 'low', linear: 'Low' },
];

/** The stored config with the schema's defaults for anything missing (an installation that was never set up). */
export function readLinearConfig(raw: Record<string, unknown> | undefined): LinearConfig {
  const c = (raw ?? {}) as Partial<LinearConfig>;
  return {
    ...c,
    additionalTeamIds: c.additionalTeamIds ?? [],
    autoCreateIssues: c.autoCreateIssues ?? false,
    autoCreateRules: c.autoCreateRules ?? [],
    statusToLinear: c.statusToLinear ?? {},
    linearToStatus: c.linearToStatus ?? {},
    syncPriority: c.syncPriority ?? true,
    commentsToLinear: c.commentsToLinear ?? 'public',
    commentsFromLinear: c.commentsFromLinear ?? 'internal',
    conflictPolicy: c.conflictPolicy ?? 'latest',
    reconcileIntervalMinutes: c.reconcileIntervalMinutes ?? 10,
    labelIds: c.labelIds ?? [],
  };
}

/** What the server sets (workspace, token's actor and user, registered webhook): always sent back as last read. */
function serverSetFields(raw: Record<string, unknown>): Partial<LinearConfig> {
  const c = raw as Partial<LinearConfig>;
  const fields: Partial<LinearConfig> = {};
  if (c.workspace !== undefined) fields.workspace = c.workspace;
  if (c.actor !== undefined) fields.actor = c.actor;
  if (c.viewerId !== undefined) fields.viewerId = c.viewerId;
  if (c.webhookId !== undefined) fields.webhookId = c.webhookId;
  return fields;
}

const byPosition = (a: LinearWorkflowState, b: LinearWorkflowState) => a.position - b.position;

/** The stored mapping where it still names this team's states, the defaults everywhere else. */
function mappingsFor(team: LinearTeam, config: LinearConfig) {
  const stateIds = new Set(team.states.map((s) => s.id));
  // The server's defaults (the mapping the sync applies where none is configured), not a copy of its rules here.
  const toLinear = { ...team.defaultMapping.statusToLinear };
  for (const status of ticketStatuses) {
    const stored = config.statusToLinear[status];
    if (stored && stateIds.has(stored)) toLinear[status] = stored;
  }
  const toStatus = { ...team.defaultMapping.linearToStatus };
  for (const [stateId, status] of Object.entries(config.linearToStatus)) {
    if (stateIds.has(stateId)) toStatus[stateId] = status;
  }
  return { toLinear, toStatus };
}

type SaveError = { message: string; details: ErrorDetail[] };

function saveErrorFrom(e: unknown): SaveError {
  return { message: describeError(e), details: e instanceof ApiError ? e.details : [] };
}

function StepActions({
  saving,
  onBack,
  submitLabel = 'Save and continue',
  children,
}: {
  saving: boolean;
  onBack?: () => void;
  submitLabel?: string;
  children?: ReactNode;
}) {
  return (
    <div className="form-actions">
      <button type="submit" disabled={saving}>
        {saving ? 'Saving…' : submitLabel}
      </button>
      {onBack && (
        <button type="button" className="button-secondary" onClick={onBack}>
          Back
        </button>
      )}
      {children}
    </div>
  );
}

// ---- Connect ----

function ConnectStep({
  integration,
  returnError,
  onConnected,
}: {
  integration: Integration | null;
  returnError: string | null;
  onConnected: (integration: Integration) => void;
}) {
  const id = useId();
  const [actor, setActor] = useState<LinearActor>('user');
  const [redirecting, setRedirecting] = useState(false);
  const [error, setError] = useState<string | null>(returnError);
  const [usingKey, setUsingKey] = useState(false);
  const [name, setName] = useState('Linear');
  const [apiKey, setApiKey] = useState('');
  const [keyError, setKeyError] = useState<SaveError | null>(null);
  const [savingKey, setSavingKey] = useState(false);
  const keyField = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (usingKey) keyField.current?.focus();
  }, [usingKey]);

  async function connectWithOAuth() {
    setError(null);
    setRedirecting(true);
    try {
      const { authorizeUrl } = await linearAuthorizeUrl(actor, integration?.id);
      window.location.assign(authorizeUrl);
    } catch (e) {
      setError(describeError(e));
      setRedirecting(false);
    }
  }

  async function connectWithKey(event: FormEvent) {
    event.preventDefault();
    setKeyError(null);
    if (!apiKey.trim()) {
      setKeyError({ message: 'Paste a personal API key from Linear → Settings → Security & access.', details: [] });
      return;
    }
    setSavingKey(true);
    try {
      onConnected(await createLinearApiKeyInstallation(name.trim() || 'Linear', apiKey.trim()));
    } catch (e) {
      setKeyError(saveErrorFrom(e));
    } finally {
      setSavingKey(false);
    }
  }

  const keyFieldError = keyError?.details.find((d) => /apiKey$/.test(d.path))?.message ?? null;

  return (
    <div className="linear-connect">
      <p>
        {integration
          ? 'Reconnect this installation to Linear. Its links and settings are kept.'
          : 'Switchboard asks Linear for permission to read and write issues, comments and webhooks in your workspace.'}
      </p>
      {error && <ErrorNotice message={error} />}
      <fieldset>
        <legend>Changes made by Switchboard appear in Linear as</legend>
        <div className="field field-checkbox">
          <input
            id={`${id}-actor-user`}
            type="radio"
            name={`${id}-actor`}
            checked={actor === 'user'}
            onChange={() => setActor('user')}
          />
          <label htmlFor={`${id}-actor-user`}>You (the admin who connects)</label>
        </div>
        <div className="field field-checkbox">
          <input
            id={`${id}-actor-app`}
            type="radio"
            name={`${id}-actor`}
            checked={actor === 'app'}
            onChange={() => setActor('app')}
          />
          <label htmlFor={`${id}-actor-app`}>The Switchboard app</label>
        </div>
      </fieldset>
      <div className="form-actions">
        <button type="button" onClick={() => void connectWithOAuth()} disabled={redirecting}>
          {redirecting ? 'Opening Linear…' : 'Connect with Linear'}
        </button>
        {!integration && !usingKey && (
          <button type="button" className="button-secondary" onClick={() => setUsingKey(true)}>
            Use a personal API key
          </button>
        )}
      </div>
      {!integration && usingKey && (
        <form className="linear-api-key-form" aria-label="Connect with a personal API key" onSubmit={connectWithKey}>
          <div className="form-fields">
            <div className="field">
              <label htmlFor={`${id}-name`}>Name</label>
              <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-key`}>Personal API key</label>
              <input
                id={`${id}-key`}
                ref={keyField}
                type="password"
                autoComplete="off"
                className="code"
                value={apiKey}
                onChange={(e) => setApiKey(e.target.value)}
                aria-invalid={keyFieldError ? true : undefined}
                aria-describedby={`${id}-key-hint${keyFieldError ? ` ${id}-key-error` : ''}`}
              />
              <span id={`${id}-key-hint`} className="hint">
                Linear → Settings → Security &amp; access → Personal API keys. Stored encrypted; changes appear as you.
              </span>
              <FieldError id={`${id}-key-error`} message={keyFieldError} />
            </div>
            <div className="form-actions">
              <button type="submit" disabled={savingKey}>
                {savingKey ? 'Connecting…' : 'Connect with API key'}
              </button>
              <button type="button" className="button-secondary" onClick={() => setUsingKey(false)}>
                Cancel
              </button>
            </div>
          </div>
          <div aria-live="polite">
            {keyError && !keyFieldError && <ErrorNotice message={keyError.message} details={keyError.details} />}
          </div>
        </form>
      )}
    </div>
  );
}

// ---- Team ----

function TeamStep({
  teams,
  config,
  saving,
  onSave,
}: {
  teams: LinearTeam[];
  config: LinearConfig;
  saving: boolean;
  onSave: (changes: Partial<LinearConfig>) => void;
}) {
  const id = useId();
  const [teamId, setTeamId] = useState(config.teamId ?? '');
  // Agents may link issues of the chosen team only, unless the admin adds more (a team's issues, comments and
  // assignees become visible on the tickets they are linked to).
  const [extraTeamIds, setExtraTeamIds] = useState<string[]>(config.additionalTeamIds);
  const [error, setError] = useState<string | null>(null);

  function toggleExtra(id: string, on: boolean) {
    setExtraTeamIds((ids) => (on ? [...ids.filter((i) => i !== id), id] : ids.filter((i) => i !== id)));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const team = teams.find((t) => t.id === teamId);
    if (!team) {
      setError('Choose the team new issues are created in.');
      return;
    }
    setError(null);
    // Only teams the workspace still has, and not the chosen one (always allowed).
    const additionalTeamIds = extraTeamIds.filter((id) => id !== team.id && teams.some((t) => t.id === id));
    const extrasChanged = additionalTeamIds.join() !== config.additionalTeamIds.join();
    if (team.id === config.teamId) onSave(extrasChanged ? { additionalTeamIds } : {});
    // Another team has other workflow states and labels: start its mapping from the defaults.
    else
      onSave({
        teamId: team.id,
        additionalTeamIds,
        statusToLinear: team.defaultMapping.statusToLinear,
        linearToStatus: team.defaultMapping.linearToStatus,
        labelIds: [],
      });
  }

  if (teams.length === 0) return <p className="empty">This Linear workspace has no teams Switchboard can see.</p>;

  return (
    <form onSubmit={submit} aria-label="Team" noValidate>
      <fieldset aria-describedby={error ? `${id}-error` : undefined} aria-invalid={error ? true : undefined}>
        <legend>Create issues in the team</legend>
        {teams.map((team) => (
          <div key={team.id} className="field field-checkbox">
            <input
              id={`${id}-${team.id}`}
              type="radio"
              name={`${id}-team`}
              value={team.id}
              checked={teamId === team.id}
              onChange={() => setTeamId(team.id)}
            />
            <label htmlFor={`${id}-${team.id}`}>
              {team.name} ({team.key})
            </label>
          </div>
        ))}
        <FieldError id={`${id}-error`} message={error} />
      </fieldset>
      {teams.length > 1 && (
        <fieldset aria-describedby={`${id}-extra-hint`}>
          <legend>Agents may also link issues of</legend>
          <p id={`${id}-extra-hint`} className="hint">
            Agents can link existing issues of the team above only. A linked issue’s title, state, assignee and comments
            show on the ticket, so add a team only if its issues may be seen by everyone who handles tickets.
          </p>
          {teams
            .filter((team) => team.id !== teamId)
            .map((team) => (
              <div key={team.id} className="field field-checkbox">
                <input
                  id={`${id}-extra-${team.id}`}
                  type="checkbox"
                  checked={extraTeamIds.includes(team.id)}
                  onChange={(e) => toggleExtra(team.id, e.target.checked)}
                />
                <label htmlFor={`${id}-extra-${team.id}`}>
                  {team.name} ({team.key})
                </label>
              </div>
            ))}
        </fieldset>
      )}
      <StepActions saving={saving} />
    </form>
  );
}

// ---- Statuses ----

function StatusesStep({
  team,
  config,
  saving,
  onSave,
  onBack,
}: {
  team: LinearTeam;
  config: LinearConfig;
  saving: boolean;
  onSave: (changes: Partial<LinearConfig>) => void;
  onBack: () => void;
}) {
  const id = useId();
  const [initial] = useState(() => mappingsFor(team, config));
  const [toLinear, setToLinear] = useState(initial.toLinear);
  const [toStatus, setToStatus] = useState(initial.toStatus);
  const states = team.states.toSorted(byPosition);

  function submit(event: FormEvent) {
    event.preventDefault();
    onSave({ statusToLinear: toLinear, linearToStatus: toStatus });
  }

  return (
    <form onSubmit={submit} aria-label="Statuses">
      <p className="hint">
        Prefilled by each state's type in {team.name}; change any of them. The states are read live from Linear.
      </p>
      <div className="linear-mapping-grid">
        <table className="linear-mapping">
          <caption>When a ticket's status changes, move the Linear issue to</caption>
          <thead>
            <tr>
              <th scope="col">Ticket status</th>
              <th scope="col">Linear state</th>
            </tr>
          </thead>
          <tbody>
            {ticketStatuses.map((status) => (
              <tr key={status}>
                <th scope="row">
                  <label htmlFor={`${id}-to-linear-${status}`}>{statusLabel(status)}</label>
                </th>
                <td>
                  <select
                    id={`${id}-to-linear-${status}`}
                    aria-label={`Linear state for ticket status ${humanize(status)}`}
                    value={toLinear[status] ?? ''}
                    onChange={(e) => setToLinear({ ...toLinear, [status]: e.target.value })}
                  >
                    {/* The team has no state of this status's kind: by default the issue does not move. */}
                    {toLinear[status] === undefined && <option value="">Not moved</option>}
                    {states.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name} ({s.type})
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="linear-mapping">
          <caption>When the Linear issue moves to a state, set the ticket's status to</caption>
          <thead>
            <tr>
              <th scope="col">Linear state</th>
              <th scope="col">Ticket status</th>
            </tr>
          </thead>
          <tbody>
            {states.map((state) => (
              <tr key={state.id}>
                <th scope="row">
                  <label htmlFor={`${id}-to-status-${state.id}`}>{state.name}</label>{' '}
                  <span className="muted">({state.type})</span>
                </th>
                <td>
                  <select
                    id={`${id}-to-status-${state.id}`}
                    aria-label={`Ticket status for Linear state ${state.name}`}
                    value={toStatus[state.id] ?? 'open'}
                    onChange={(e) => setToStatus({ ...toStatus, [state.id]: e.target.value as TicketStatus })}
                  >
                    {ticketStatuses.map((s) => (
                      <option key={s} value={s}>
                        {humanize(s)}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <StepActions saving={saving} onBack={onBack}>
        <button
          type="button"
          className="button-secondary"
          onClick={() => {
            setToLinear(team.defaultMapping.statusToLinear);
            setToStatus(team.defaultMapping.linearToStatus);
          }}
        >
          Reset to defaults
        </button>
      </StepActions>
    </form>
  );
}

// ---- Priority ----

function PriorityStep({
  config,
  saving,
  onSave,
  onBack,
}: {
  config: LinearConfig;
  saving: boolean;
  onSave: (changes: Partial<LinearConfig>) => void;
  onBack: () => void;
}) {
  const id = useId();
  const [syncPriority, setSyncPriority] = useState(config.syncPriority);
  return (
    <form
      aria-label="Priority"
      onSubmit={(e) => {
        e.preventDefault();
        onSave({ syncPriority });
      }}
    >
      <div className="field field-checkbox">
        <input
          id={`${id}-sync`}
          type="checkbox"
          checked={syncPriority}
          onChange={(e) => setSyncPriority(e.target.checked)}
        />
        <label htmlFor={`${id}-sync`}>Sync priority both ways</label>
      </div>
      <table className="linear-mapping">
        <caption>Priority mapping (fixed)</caption>
        <thead>
          <tr>
            <th scope="col">Ticket priority</th>
            <th scope="col">Linear priority</th>
          </tr>
        </thead>
        <tbody>
          {priorityMapping.map((p) => (
            <tr key={p.ticket} className={syncPriority ? undefined : 'muted'}>
              <td className="badge-value">{p.ticket}</td>
              <td>{p.linear}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!syncPriority && (
        <p className="hint">
          Issues created from tickets still get the mapped priority; later changes stay on their own side.
        </p>
      )}
      <StepActions saving={saving} onBack={onBack} />
    </form>
  );
}

// ---- Rules ----

type RuleDraft = { key: number; tags: string; priorities: TicketPriority[] };

function RulesStep({
  team,
  config,
  saving,
  onSave,
  onBack,
}: {
  team: LinearTeam | undefined;
  config: LinearConfig;
  saving: boolean;
  onSave: (changes: Partial<LinearConfig>) => void;
  onBack: () => void;
}) {
  const id = useId();
  const nextKey = useRef(config.autoCreateRules.length);
  const [autoCreateIssues, setAutoCreateIssues] = useState(config.autoCreateIssues);
  const [rules, setRules] = useState<RuleDraft[]>(() =>
    config.autoCreateRules.map((r, key) => ({ key, tags: (r.tags ?? []).join(', '), priorities: r.priorities ?? [] })),
  );
  const [labelIds, setLabelIds] = useState<string[]>(config.labelIds);
  const [commentsToLinear, setCommentsToLinear] = useState(config.commentsToLinear);
  const [commentsFromLinear, setCommentsFromLinear] = useState(config.commentsFromLinear);
  const [conflictPolicy, setConflictPolicy] = useState(config.conflictPolicy);
  const [reconcile, setReconcile] = useState(String(config.reconcileIntervalMinutes));
  const [errors, setErrors] = useState<Record<string, string>>({});

  function updateRule(key: number, change: Partial<RuleDraft>) {
    setRules(rules.map((r) => (r.key === key ? { ...r, ...change } : r)));
    // The rule's error described the rule as it was.
    if (errors[`rule-${key}`]) {
      const { [`rule-${key}`]: _fixed, ...rest } = errors;
      setErrors(rest);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    const autoCreateRules: LinearAutoCreateRule[] = [];
    for (const rule of rules) {
      const tags = parseTags(rule.tags);
      if (tags.length === 0 && rule.priorities.length === 0) {
        found[`rule-${rule.key}`] = 'Give the rule tags, priorities or both (or remove it).';
        continue;
      }
      autoCreateRules.push({
        ...(tags.length ? { tags } : {}),
        ...(rule.priorities.length ? { priorities: rule.priorities } : {}),
      });
    }
    const minutes = Number(reconcile);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440)
      found.reconcile = 'Enter whole minutes from 1 to 1440.';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    onSave({
      autoCreateIssues,
      autoCreateRules,
      labelIds,
      commentsToLinear,
      commentsFromLinear,
      conflictPolicy,
      reconcileIntervalMinutes: minutes,
    });
  }

  return (
    <form aria-label="Rules" onSubmit={submit} noValidate>
      <fieldset>
        <legend>Create Linear issues automatically</legend>
        <div className="field field-checkbox">
          <input
            id={`${id}-auto`}
            type="checkbox"
            checked={autoCreateIssues}
            onChange={(e) => setAutoCreateIssues(e.target.checked)}
          />
          <label htmlFor={`${id}-auto`}>For every new ticket</label>
        </div>
        {!autoCreateIssues && (
          <>
            <p className="hint">Or only for tickets matching a rule (checked when a ticket is created or changed):</p>
            {rules.length === 0 && <p className="muted">No rules: issues are created only on request.</p>}
            <ul className="linear-rules">
              {rules.map((rule, index) => {
                const error = errors[`rule-${rule.key}`];
                return (
                  <li key={rule.key}>
                    <fieldset
                      className="linear-rule"
                      aria-describedby={error ? `${id}-rule-${rule.key}-error` : undefined}
                      aria-invalid={error ? true : undefined}
                    >
                      <legend>Rule {index + 1}</legend>
                      <div className="field">
                        <label htmlFor={`${id}-rule-${rule.key}-tags`}>Tags (any of, comma separated)</label>
                        <input
                          id={`${id}-rule-${rule.key}-tags`}
                          value={rule.tags}
                          placeholder="bug, outage"
                          onChange={(e) => updateRule(rule.key, { tags: e.target.value })}
                        />
                      </div>
                      <fieldset className="linear-rule-priorities">
                        <legend>Priority (any of)</legend>
                        {ticketPriorities.map((p) => (
                          <span key={p} className="field-checkbox">
                            <input
                              id={`${id}-rule-${rule.key}-${p}`}
                              type="checkbox"
                              checked={rule.priorities.includes(p)}
                              onChange={(e) =>
                                updateRule(rule.key, {
                                  priorities: e.target.checked
                                    ? [...rule.priorities, p]
                                    : rule.priorities.filter((x) => x !== p),
                                })
                              }
                            />
                            <label htmlFor={`${id}-rule-${rule.key}-${p}`}>{p}</label>
                          </span>
                        ))}
                      </fieldset>
                      <FieldError id={`${id}-rule-${rule.key}-error`} message={error} />
                      <button
                        type="button"
                        className="button-secondary"
                        onClick={() => setRules(rules.filter((r) => r.key !== rule.key))}
                      >
                        Remove rule {index + 1}
                      </button>
                    </fieldset>
                  </li>
                );
              })}
            </ul>
            {rules.length < 20 && (
              <button
                type="button"
                className="button-secondary"
                onClick={() => setRules([...rules, { key: nextKey.current++, tags: '', priorities: [] }])}
              >
                Add rule
              </button>
            )}
          </>
        )}
      </fieldset>

      {team && team.labels.length > 0 && (
        <fieldset>
          <legend>Labels on issues created from tickets</legend>
          {team.labels.map((label) => (
            <span key={label.id} className="field-checkbox linear-label-choice">
              <input
                id={`${id}-label-${label.id}`}
                type="checkbox"
                checked={labelIds.includes(label.id)}
                onChange={(e) =>
                  setLabelIds(e.target.checked ? [...labelIds, label.id] : labelIds.filter((l) => l !== label.id))
                }
              />
              <label htmlFor={`${id}-label-${label.id}`}>{label.name}</label>
            </span>
          ))}
        </fieldset>
      )}

      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-to-linear`}>Ticket comments sent to Linear</label>
          <select
            id={`${id}-to-linear`}
            value={commentsToLinear}
            onChange={(e) => setCommentsToLinear(e.target.value as LinearConfig['commentsToLinear'])}
          >
            <option value="public">Public replies only</option>
            <option value="all">Public replies and internal notes</option>
            <option value="none">None</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-from-linear`}>Linear comments arrive on the ticket as</label>
          <select
            id={`${id}-from-linear`}
            value={commentsFromLinear}
            onChange={(e) => setCommentsFromLinear(e.target.value as LinearConfig['commentsFromLinear'])}
          >
            <option value="internal">Internal notes</option>
            <option value="public">Public replies</option>
            <option value="none">Not at all</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-conflict`}>When both sides changed the same field</label>
          <select
            id={`${id}-conflict`}
            value={conflictPolicy}
            onChange={(e) => setConflictPolicy(e.target.value as LinearConfig['conflictPolicy'])}
          >
            <option value="latest">The later change wins</option>
            <option value="ticket">The ticket wins</option>
            <option value="linear">Linear wins</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-reconcile`}>Compare each issue with Linear every (minutes)</label>
          <input
            id={`${id}-reconcile`}
            type="number"
            min={1}
            max={1440}
            step={1}
            value={reconcile}
            onChange={(e) => setReconcile(e.target.value)}
            aria-invalid={errors.reconcile ? true : undefined}
            aria-describedby={`${id}-reconcile-hint${errors.reconcile ? ` ${id}-reconcile-error` : ''}`}
          />
          <span id={`${id}-reconcile-hint`} className="hint">
            Catches changes whose webhook never arrived.
          </span>
          <FieldError id={`${id}-reconcile-error`} message={errors.reconcile} />
        </div>
      </div>
      <StepActions saving={saving} onBack={onBack} />
    </form>
  );
}

// ---- Webhook ----

function WebhookStep({
  integration,
  config,
  onRegistered,
  onContinue,
  onBack,
}: {
  integration: Integration;
  config: LinearConfig;
  onRegistered: () => Promise<void>;
  onContinue: () => void;
  onBack: () => void;
}) {
  const id = useId();
  const [registration, setRegistration] = useState<LinearWebhookRegistration | null>(null);
  const [registering, setRegistering] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState('');
  const [secretError, setSecretError] = useState<string | null>(null);
  const [savingSecret, setSavingSecret] = useState(false);
  const [secretSaved, setSecretSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const urlField = useRef<HTMLInputElement>(null);

  async function register() {
    setError(null);
    setRegistering(true);
    try {
      const result = await registerLinearWebhook(integration.id);
      setRegistration(result);
      // The server stored the webhook's id in the config: read it back so later saves keep it.
      if (result.registered) await onRegistered();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setRegistering(false);
    }
  }

  async function saveSecret(event: FormEvent) {
    event.preventDefault();
    setSecretError(null);
    setSecretSaved(false);
    if (secret.trim().length < 8) {
      setSecretError('Paste the signing secret Linear shows for the webhook (at least 8 characters).');
      return;
    }
    setSavingSecret(true);
    try {
      await setLinearWebhookSecret(integration.id, secret.trim());
      setSecret('');
      setSecretSaved(true);
    } catch (e) {
      setSecretError(describeError(e));
    } finally {
      setSavingSecret(false);
    }
  }

  async function copyUrl(url: string) {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard API');
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      urlField.current?.focus();
      urlField.current?.select();
    }
  }

  const registered = registration?.registered ? registration : null;
  const manual = registration && !registration.registered ? registration : null;

  return (
    <div className="linear-webhook">
      <p>
        Linear tells Switchboard about changes to linked issues through a webhook, signed with a secret only the two
        know.
      </p>
      {!registration && config.webhookId && (
        <p className="notice notice-success">
          A webhook is registered in Linear (<code>{config.webhookId}</code>).
        </p>
      )}
      {error && <ErrorNotice message={error} />}
      {!registration && (
        <div className="form-actions">
          <button type="button" onClick={() => void register()} disabled={registering}>
            {registering ? 'Registering…' : config.webhookId ? 'Register webhook again' : 'Register webhook in Linear'}
          </button>
        </div>
      )}
      <div aria-live="polite">
        {registered && (
          <div className="notice notice-success" role="status">
            <p>
              Webhook registered in Linear (<code>{registered.webhookId}</code>), sending to{' '}
              <code>{registered.url}</code>.
            </p>
          </div>
        )}
        {manual && (
          <div className="notice">
            <p>Switchboard could not register the webhook itself: {manual.reason}</p>
            <p>
              Add it in Linear → Settings → API → Webhooks with this URL (resource types: Issues, Comments, Issue
              attachments), then paste the signing secret Linear shows below.
            </p>
          </div>
        )}
      </div>
      {manual && (
        <>
          <div className="field">
            <label htmlFor={`${id}-url`}>Webhook URL</label>
            <div className="secret-row">
              <input
                id={`${id}-url`}
                ref={urlField}
                className="code"
                readOnly
                value={manual.url}
                onFocus={(e) => e.target.select()}
              />
              <button type="button" className="button-secondary" onClick={() => void copyUrl(manual.url)}>
                Copy URL
              </button>
            </div>
            <span aria-live="polite" className="hint">
              {copied ? 'URL copied to the clipboard.' : ''}
            </span>
          </div>
          <form aria-label="Linear signing secret" onSubmit={saveSecret} noValidate>
            <div className="field">
              <label htmlFor={`${id}-secret`}>Signing secret from Linear</label>
              <input
                id={`${id}-secret`}
                type="password"
                autoComplete="off"
                className="code"
                value={secret}
                onChange={(e) => setSecret(e.target.value)}
                aria-invalid={secretError ? true : undefined}
                aria-describedby={secretError ? `${id}-secret-error` : undefined}
              />
              <FieldError id={`${id}-secret-error`} message={secretError} />
            </div>
            <div className="form-actions">
              <button type="submit" disabled={savingSecret}>
                {savingSecret ? 'Saving…' : 'Save signing secret'}
              </button>
            </div>
            <div aria-live="polite">{secretSaved && <SuccessNotice message="Signing secret saved." />}</div>
          </form>
        </>
      )}
      <div className="form-actions">
        <button
          type="button"
          className={registration || config.webhookId ? undefined : 'button-secondary'}
          onClick={onContinue}
        >
          {registration || config.webhookId ? 'Continue' : 'Skip for now'}
        </button>
        <button type="button" className="button-secondary" onClick={onBack}>
          Back
        </button>
      </div>
    </div>
  );
}

// ---- Done ----

const webhookLabels: Record<LinearConnectionTest['webhook'], string> = {
  registered: 'Registered in Linear',
  'secret-set': 'Added by hand (signing secret saved)',
  missing: 'Missing: changes in Linear reach Switchboard only through the periodic check',
};

function DoneStep({
  integration,
  onFinish,
  onBack,
}: {
  integration: Integration;
  onFinish: () => void;
  onBack: () => void;
}) {
  const [run, setRun] = useState(0);
  const test = useLoader(`linear-test:${integration.id}:${run}`, () => testLinearInstallation(integration.id));
  const result = test.data;

  return (
    <div className="linear-done">
      <div aria-live="polite">
        {test.loading && (
          <p className="notice notice-loading" role="status">
            Testing the connection to Linear…
          </p>
        )}
      </div>
      {test.error && <ErrorNotice message={test.error} onRetry={() => setRun(run + 1)} />}
      {result && !test.loading && (
        <section aria-label="Connection test" className={`linear-test linear-test-${result.ok ? 'ok' : 'failed'}`}>
          <p
            className={`notice ${result.ok ? 'notice-success' : 'notice-error'}`}
            role={result.ok ? 'status' : 'alert'}
          >
            {result.ok
              ? 'Connected: Switchboard can reach Linear.'
              : `The connection test failed: ${result.error ?? 'unknown error'}`}
          </p>
          <dl className="details">
            <dt>Connected as</dt>
            <dd>
              {result.viewer
                ? `${result.viewer.name}${result.viewer.email ? ` <${result.viewer.email}>` : ''}${result.viewer.app ? ' (app)' : ''}`
                : '—'}
            </dd>
            <dt>Workspace</dt>
            <dd>{result.organization ? `${result.organization.name} (${result.organization.urlKey})` : '—'}</dd>
            <dt>Team</dt>
            <dd>{result.team ? `${result.team.name} (${result.team.key})` : 'None chosen'}</dd>
            <dt>Webhook</dt>
            <dd>{webhookLabels[result.webhook]}</dd>
          </dl>
        </section>
      )}
      <div className="form-actions">
        <button type="button" onClick={onFinish}>
          Finish
        </button>
        <button type="button" className="button-secondary" onClick={() => setRun(run + 1)} disabled={test.loading}>
          Test again
        </button>
        <button type="button" className="button-secondary" onClick={onBack}>
          Back
        </button>
      </div>
    </div>
  );
}

// ---- The wizard ----

export function LinearIntegrationSetup({ integration, onSaved, onCancel }: IntegrationSetupProps) {
  const [params, setParams] = useSearchParams();
  // What the OAuth callback came back with, read once: the parameters are then taken out of the address.
  const [returned] = useState(() => ({
    outcome: params.get('linear'),
    integrationId: params.get('integration'),
    reason: params.get('reason'),
  }));
  const [current, setCurrent] = useState<Integration | null>(integration ?? null);
  const [config, setConfig] = useState<LinearConfig>(() => readLinearConfig(integration?.config));
  // A disconnected installation (no credentials left) has no teams to show: it starts by connecting again.
  const [step, setStep] = useState<Step>(
    integration?.credentialsHint && returned.outcome !== 'error' ? 'team' : 'connect',
  );
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<SaveError | null>(null);
  const [notice, setNotice] = useState<string | null>(
    returned.outcome === 'connected' && integration && returned.integrationId === integration.id
      ? `Connected to Linear${readLinearConfig(integration.config).workspace ? ` (${readLinearConfig(integration.config).workspace?.name})` : ''}. Now choose the team.`
      : null,
  );
  const [confirmingDisconnect, setConfirmingDisconnect] = useState(false);
  const [disconnecting, setDisconnecting] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);
  const keepConnected = useRef<HTMLButtonElement>(null);

  const returnError =
    returned.outcome === 'error'
      ? `Linear did not connect${returned.reason ? `: ${humanize(returned.reason)}` : ''}. Try again.`
      : null;

  useEffect(() => {
    if (!returned.outcome) return;
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        for (const name of LINEAR_RETURN_PARAMS) next.delete(name);
        return next;
      },
      { replace: true },
    );
  }, [returned, setParams]);

  // Each step's heading takes the focus, so keyboard and screen-reader users start at the new step.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the step changes, which is the point
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    heading.current?.focus();
  }, [step]);

  // The question takes the focus on the safe answer, so Enter does not disconnect by accident.
  useEffect(() => {
    if (confirmingDisconnect) keepConnected.current?.focus();
  }, [confirmingDisconnect]);

  const needsTeams = current !== null && step !== 'connect' && step !== 'done' && step !== 'webhook';
  const teams = useLoader(`linear-teams:${current?.id ?? ''}:${needsTeams}`, async () =>
    current && needsTeams ? (await listLinearTeams(current.id)).data : [],
  );
  const team = teams.data?.find((t) => t.id === config.teamId);

  function go(to: Step) {
    setSaveError(null);
    setNotice(null);
    setStep(to);
  }

  /** The config as edited (with the server's own fields as last read) becomes the stored one. */
  async function save(changes: Partial<LinearConfig>) {
    if (!current) return;
    setSaving(true);
    setSaveError(null);
    try {
      const next = { ...config, ...changes, ...serverSetFields(current.config) };
      const saved = await updateIntegration(current.id, { config: mergePatchBetween(current.config, next) });
      setCurrent(saved);
      setConfig(readLinearConfig(saved.config));
      go(nextStep(step));
    } catch (e) {
      setSaveError(saveErrorFrom(e));
    } finally {
      setSaving(false);
    }
  }

  async function rereadIntegration() {
    if (!current) return;
    const found = (await listIntegrations()).data.find((i) => i.id === current.id);
    if (!found) return;
    setCurrent(found);
    setConfig((c) => ({ ...c, ...serverSetFields(found.config) }));
  }

  async function disconnect() {
    if (!current) return;
    setConfirmingDisconnect(false);
    setDisconnecting(true);
    setSaveError(null);
    try {
      await disconnectLinear(current.id);
      setNotice('Disconnected from Linear: the token was revoked and its links are paused. Connect again to resume.');
      setStep('connect');
      await rereadIntegration().catch(() => {});
    } catch (e) {
      setSaveError(saveErrorFrom(e));
    } finally {
      setDisconnecting(false);
    }
  }

  function close() {
    // An installation created in this wizard is new to the list behind it.
    if (current) onSaved(current);
    else onCancel();
  }

  const stepIndex = steps.findIndex((s) => s.id === step);
  const stepLabel = steps[stepIndex]?.label ?? '';

  let body: ReactNode;
  if (step === 'connect' || !current) {
    body = (
      <ConnectStep
        integration={current}
        returnError={returnError}
        onConnected={(created) => {
          setCurrent(created);
          setConfig(readLinearConfig(created.config));
          setNotice(`Connected to Linear as ${created.name}. Now choose the team.`);
          setStep('team');
        }}
      />
    );
  } else if (step === 'webhook') {
    body = (
      <WebhookStep
        integration={current}
        config={config}
        onRegistered={rereadIntegration}
        onContinue={() => go('done')}
        onBack={() => go('rules')}
      />
    );
  } else if (step === 'done') {
    body = <DoneStep integration={current} onFinish={() => onSaved(current)} onBack={() => go('webhook')} />;
  } else if (teams.loading && !teams.data) {
    body = <Loading what="the Linear teams" />;
  } else if (teams.error) {
    body = (
      <ErrorNotice
        message={`Could not read the teams from Linear: ${teams.error}`}
        onRetry={() => void teams.reload()}
      />
    );
  } else if (step === 'team') {
    body = <TeamStep teams={teams.data ?? []} config={config} saving={saving} onSave={(c) => void save(c)} />;
  } else if (!team) {
    body = (
      <div className="notice notice-error" role="alert">
        <p>Choose a team first: the statuses and labels are the team's.</p>
        <button type="button" className="button-secondary" onClick={() => go('team')}>
          Choose the team
        </button>
      </div>
    );
  } else if (step === 'statuses') {
    body = (
      <StatusesStep
        key={team.id}
        team={team}
        config={config}
        saving={saving}
        onSave={(c) => void save(c)}
        onBack={() => go('team')}
      />
    );
  } else if (step === 'priority') {
    body = <PriorityStep config={config} saving={saving} onSave={(c) => void save(c)} onBack={() => go('statuses')} />;
  } else {
    body = (
      <RulesStep
        team={team}
        config={config}
        saving={saving}
        onSave={(c) => void save(c)}
        onBack={() => go('priority')}
      />
    );
  }

  return (
    <div className="linear-setup">
      <nav aria-label="Linear setup steps">
        <ol className="wizard-steps">
          {steps.map((s, i) => {
            // Past the first step everything reads Linear through the installation's token.
            const reachable = s.id === 'connect' || (current !== null && current.credentialsHint !== null);
            return (
              <li key={s.id} className={i < stepIndex ? 'wizard-step-done' : undefined}>
                <button
                  type="button"
                  className="wizard-step"
                  aria-current={s.id === step ? 'step' : undefined}
                  disabled={!reachable || saving}
                  onClick={() => go(s.id)}
                >
                  <span className="wizard-step-number">{i + 1}</span> {s.label}
                </button>
              </li>
            );
          })}
        </ol>
      </nav>
      {current && (
        <p className="muted linear-installation">
          {current.name}
          {config.workspace ? ` · workspace ${config.workspace.name}` : ''}
          {current.credentialsHint ? ` · ${current.credentialsHint}` : ' · not connected'}
        </p>
      )}
      <div aria-live="polite">{notice && <SuccessNotice message={notice} />}</div>
      <section aria-labelledby="linear-step-title" className="wizard-panel">
        <h3 id="linear-step-title" ref={heading} tabIndex={-1}>
          Step {stepIndex + 1} of {steps.length}: {stepLabel}
        </h3>
        {body}
      </section>
      <div className="form-errors" aria-live="polite">
        {saveError && <ErrorNotice message={saveError.message} details={saveError.details} />}
      </div>
      <div className="form-actions linear-setup-footer">
        <button type="button" className="button-secondary" onClick={close}>
          Close
        </button>
        {current && current.credentialsHint !== null && !confirmingDisconnect && (
          <button
            type="button"
            className="button-secondary"
            onClick={() => setConfirmingDisconnect(true)}
            disabled={disconnecting}
          >
            {disconnecting ? 'Disconnecting…' : 'Disconnect'}
          </button>
        )}
        {confirmingDisconnect && (
          <div className="confirm-delete" role="alertdialog" aria-labelledby="linear-disconnect-question">
            <p id="linear-disconnect-question">
              Disconnect from Linear? Switchboard revokes its token and forgets it; linked issues stop syncing until you
              connect again.
            </p>
            <button type="button" className="button-danger" onClick={() => void disconnect()}>
              Confirm disconnect
            </button>
            <button
              type="button"
              className="button-secondary"
              ref={keepConnected}
              onClick={() => setConfirmingDisconnect(false)}
            >
              Keep connected
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
