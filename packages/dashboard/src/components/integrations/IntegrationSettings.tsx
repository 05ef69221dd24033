// Integration settings: every integration of the organisation with its health, and (for admins) adding,
// editing, disabling and deleting them. The form for a type comes from setupComponentFor.

import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import {
  deleteIntegration,
  describeError,
  type Integration,
  type IntegrationType,
  listIntegrationCatalogue,
  listIntegrations,
  updateIntegration,
  updateWebhookEndpoint,
} from '../../api.ts';
import { formatTime } from '../../format.ts';
import { canManageIntegrations, useMe } from '../../session.tsx';
import { useLoader } from '../../useLoader.ts';
import { ConfirmDelete } from '../ConfirmDelete.tsx';
import { ErrorNotice, Loading, SuccessNotice } from '../Notices.tsx';
import { IntegrationHealth } from './IntegrationHealth.tsx';
import { setupComponentFor } from './setupComponents.ts';

type Editing = { mode: 'new'; integrationType: IntegrationType } | { mode: 'edit'; integration: Integration } | null;

export function IntegrationSettings() {
  const me = useMe();
  const canManage = canManageIntegrations(me);
  const integrations = useLoader('integrations', async () => (await listIntegrations()).data);
  // The types the server has a module for: only these are offered, each with its own setup component.
  const catalogue = useLoader('integration-catalogue', async () => (await listIntegrationCatalogue()).data);
  const entryOf = (type: IntegrationType) => catalogue.data?.find((e) => e.type === type);
  const labelOf = (type: IntegrationType) => entryOf(type)?.label ?? type;
  const [editing, setEditing] = useState<Editing>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [confirmingDelete, setConfirmingDelete] = useState<string | null>(null);
  const [params] = useSearchParams();
  const oauthReturn = useRef(false);

  // Back from a provider's consent page (?linear=connected&integration=… or ?linear=error&reason=…, the parameter
  // its module names): that type's wizard goes on where it left off, for the installation the callback created or
  // reconnected.
  useEffect(() => {
    if (oauthReturn.current || !integrations.data || !catalogue.data || !canManage) return;
    const entry = catalogue.data.find((e) => e.oauthReturnParam && params.get(e.oauthReturnParam));
    if (!entry) return;
    oauthReturn.current = true;
    const returned = integrations.data.find(
      (i) => i.id === params.get('integration') && i.integrationType === entry.type,
    );
    setEditing(returned ? { mode: 'edit', integration: returned } : { mode: 'new', integrationType: entry.type });
  }, [params, integrations.data, catalogue.data, canManage]);

  async function afterSaved(saved: Integration, verb: string) {
    setEditing(null);
    await integrations.reload();
    // Announced once the list shows the change, not before.
    setMessage(`${saved.name} ${verb}.`);
  }

  async function runAction(action: () => Promise<unknown>, success: string) {
    setActionError(null);
    setMessage(null);
    try {
      await action();
      await integrations.reload();
      setMessage(success);
    } catch (e) {
      setActionError(describeError(e));
    }
  }

  const Setup = editing
    ? setupComponentFor(
        entryOf(editing.mode === 'new' ? editing.integrationType : editing.integration.integrationType)?.setupComponent,
      )
    : null;

  return (
    <section aria-labelledby="integrations-title" className="integration-settings">
      <div className="page-heading">
        <h1 id="integrations-title">Integrations</h1>
        {canManage && !editing && catalogue.data?.[0] && (
          <button type="button" onClick={() => setEditing({ mode: 'new', integrationType: catalogue.data![0]!.type })}>
            Add integration
          </button>
        )}
      </div>
      {!canManage && <p className="notice">Only admins can add or change integrations; you can see their health.</p>}

      <div aria-live="polite">{message && <SuccessNotice message={message} />}</div>
      {actionError && <ErrorNotice message={actionError} />}

      {editing && Setup && (
        <section className="card" aria-labelledby="integration-editor-title">
          <h2 id="integration-editor-title">
            {editing.mode === 'new' ? 'Add integration' : `Edit ${editing.integration.name}`}
          </h2>
          {editing.mode === 'new' && (
            <div className="field integration-type-field">
              <label htmlFor="integration-type">Type</label>
              <select
                id="integration-type"
                value={editing.integrationType}
                onChange={(e) => setEditing({ mode: 'new', integrationType: e.target.value as IntegrationType })}
              >
                {(catalogue.data ?? []).map((entry) => (
                  <option key={entry.type} value={entry.type}>
                    {entry.label}
                  </option>
                ))}
              </select>
            </div>
          )}
          <Setup
            key={editing.mode === 'new' ? `new-${editing.integrationType}` : editing.integration.id}
            integrationType={editing.mode === 'new' ? editing.integrationType : editing.integration.integrationType}
            integration={editing.mode === 'edit' ? editing.integration : undefined}
            onSaved={(saved) => void afterSaved(saved, editing.mode === 'new' ? 'added' : 'saved')}
            onCancel={() => setEditing(null)}
          />
        </section>
      )}

      {integrations.loading && <Loading what="integrations" />}
      {integrations.error && <ErrorNotice message={integrations.error} onRetry={() => void integrations.reload()} />}
      {integrations.data && integrations.data.length === 0 && (
        <p className="empty">
          No integrations yet.{canManage ? ' Add one to connect Switchboard to other tools.' : ''}
        </p>
      )}
      {integrations.data && integrations.data.length > 0 && (
        <ul className="integration-list" aria-label="Configured integrations">
          {integrations.data.map((integration) => (
            <li key={integration.id} className="card integration-item">
              <div className="integration-summary">
                <h3>{integration.name}</h3>
                <span className="badge">{labelOf(integration.integrationType)}</span>
                <span className={`badge ${integration.isActive ? 'badge-active' : 'badge-inactive'}`}>
                  {integration.isActive ? 'Active' : 'Inactive'}
                </span>
              </div>
              <IntegrationHealth health={integration.health} />
              <p className="integration-meta">
                Added {formatTime(integration.createdAt)}
                {integration.credentialsHint ? ` · credentials ${integration.credentialsHint}` : ' · no credentials'}
              </p>
              {canManage && (
                <div className="integration-actions">
                  <button
                    type="button"
                    className="button-secondary"
                    aria-label={`Edit ${integration.name}`}
                    onClick={() => setEditing({ mode: 'edit', integration })}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    className="button-secondary"
                    aria-label={`${integration.isActive ? 'Disable' : 'Enable'} ${integration.name}`}
                    onClick={() =>
                      void runAction(
                        () =>
                          // A webhook endpoint is switched through its own API, which records the endpoint event
                          // and wakes its delivery workflow.
                          integration.integrationType === 'webhook'
                            ? updateWebhookEndpoint(integration.id, { enabled: !integration.isActive })
                            : updateIntegration(integration.id, { isActive: !integration.isActive }),
                        `${integration.name} ${integration.isActive ? 'disabled' : 'enabled'}.`,
                      )
                    }
                  >
                    {integration.isActive ? 'Disable' : 'Enable'}
                  </button>
                  <ConfirmDelete
                    name={integration.name}
                    confirming={confirmingDelete === integration.id}
                    onAsk={() => setConfirmingDelete(integration.id)}
                    onCancel={() => setConfirmingDelete(null)}
                    onConfirm={() => {
                      setConfirmingDelete(null);
                      void runAction(() => deleteIntegration(integration.id), `${integration.name} deleted.`);
                    }}
                  />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
