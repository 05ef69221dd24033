// Outbound webhooks in Integration settings. On its own page it lists every endpoint with its health, creates
// new ones and opens one to manage it (test event, rotation, delivery log). Registered as the setup component
// for the webhook type, it stands in for the generic form: adding creates an endpoint (showing its secret
// once) and editing opens that endpoint.
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { createWebhookEndpoint, listIntegrations, listWebhookEndpoints, type WebhookEndpoint } from '../../api.ts';
import { canManageIntegrations, useMe } from '../../session.tsx';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading, SuccessNotice } from '../Notices.tsx';
import { EndpointDetail } from '../webhooks/EndpointDetail.tsx';
import { EndpointForm } from '../webhooks/EndpointForm.tsx';
import { EndpointList } from '../webhooks/EndpointList.tsx';
import { SecretReveal } from '../webhooks/SecretReveal.tsx';
import type { IntegrationSetupProps } from './setupComponents.ts';

export const WEBHOOKS_PAGE = '/settings/integrations/webhooks';

/** Creating an endpoint, then showing its secret until the person says they have it. */
function CreateEndpoint({ onDone, onCancel }: { onDone: (endpoint: WebhookEndpoint) => void; onCancel: () => void }) {
  const [created, setCreated] = useState<{ endpoint: WebhookEndpoint; secret: string } | null>(null);
  if (created) {
    return (
      <SecretReveal
        title="Endpoint created"
        secret={created.secret}
        doneLabel="I have saved the secret"
        onDone={() => onDone(created.endpoint)}
      >
        <p className="hint">
          Receivers verify each delivery's <code>webhook-signature</code> header with this secret (Standard Webhooks).
        </p>
      </SecretReveal>
    );
  }
  return (
    <EndpointForm onSubmit={async (input) => setCreated(await createWebhookEndpoint(input))} onCancel={onCancel} />
  );
}

/** Inside the generic Integration settings editor. */
function WebhookSetup({ integration, onSaved, onCancel }: IntegrationSetupProps) {
  const me = useMe();
  const [error, setError] = useState<string | null>(null);

  // The settings page reloads its list from /api/integrations; hand it the same row it will show.
  async function finish(endpoint: WebhookEndpoint) {
    try {
      const found = (await listIntegrations()).data.find((i) => i.id === endpoint.id);
      if (found) onSaved(found);
      else onCancel();
    } catch {
      setError('The endpoint was created, but the integration list could not be reloaded. Refresh the page.');
    }
  }

  return (
    <div className="webhook-setup">
      <p className="hint">
        <Link to={WEBHOOKS_PAGE}>All webhook endpoints, with their health and delivery logs</Link>
      </p>
      {error && <ErrorNotice message={error} />}
      {integration ? (
        <EndpointDetail
          endpointId={integration.id}
          canManage={canManageIntegrations(me)}
          onDeleted={onCancel}
          onClose={onCancel}
          closeLabel="Close"
        />
      ) : (
        <CreateEndpoint onDone={(endpoint) => void finish(endpoint)} onCancel={onCancel} />
      )}
    </div>
  );
}

/** The webhooks page: the list, creating, and one endpoint opened (its id in the URL, so it can be linked). */
function WebhookEndpoints() {
  const me = useMe();
  const canManage = canManageIntegrations(me);
  const endpoints = useLoader('webhook-endpoints', async () => (await listWebhookEndpoints()).data);
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const openId = params.get('endpoint');

  function open(id: string | null) {
    setMessage(null);
    setParams(id ? { endpoint: id } : {});
  }

  if (openId) {
    return (
      <EndpointDetail
        key={openId}
        endpointId={openId}
        canManage={canManage}
        onChanged={() => void endpoints.reload()}
        onDeleted={() => {
          open(null);
          void endpoints.reload().then(() => setMessage('Endpoint deleted.'));
        }}
        onClose={() => {
          open(null);
          void endpoints.reload();
        }}
      />
    );
  }

  return (
    <>
      <div className="section-heading">
        <h2>Endpoints</h2>
        {canManage && !creating && (
          <button type="button" onClick={() => setCreating(true)}>
            Add endpoint
          </button>
        )}
      </div>
      <div aria-live="polite">{message && <SuccessNotice message={message} />}</div>
      {creating && (
        <section className="card" aria-label="New webhook endpoint">
          <CreateEndpoint
            onDone={(endpoint) => {
              setCreating(false);
              void endpoints.reload();
              open(endpoint.id);
            }}
            onCancel={() => setCreating(false)}
          />
        </section>
      )}
      {endpoints.loading && !endpoints.data && <Loading what="webhook endpoints" />}
      {endpoints.error && <ErrorNotice message={endpoints.error} onRetry={() => void endpoints.reload()} />}
      {endpoints.data && endpoints.data.length === 0 && !creating && (
        <p className="empty">
          No webhook endpoints yet.{canManage ? ' Add one to receive ticket events in your own tools.' : ''}
        </p>
      )}
      {endpoints.data && endpoints.data.length > 0 && <EndpointList endpoints={endpoints.data} onOpen={open} />}
    </>
  );
}

function WebhooksOverview() {
  const me = useMe();
  return (
    <section aria-labelledby="webhooks-title" className="webhook-manager">
      <div className="page-heading">
        <h1 id="webhooks-title">Webhooks</h1>
        <Link to="/settings/integrations">All integrations</Link>
      </div>
      <p className="muted">
        Switchboard POSTs the ticket events you choose to your endpoints, signed (Standard Webhooks), retried with
        backoff when they fail, and logged attempt by attempt.
      </p>
      {!canManageIntegrations(me) && (
        <p className="notice">Only admins can add or change webhook endpoints; you can see their health and logs.</p>
      )}
      <WebhookEndpoints />
    </section>
  );
}

/** Without props, the whole webhooks page; with the setup props, the editor for one webhook integration. */
export function WebhookManager(props: Partial<IntegrationSetupProps>) {
  const { integrationType, integration, onSaved, onCancel } = props;
  if (integrationType && onSaved && onCancel) {
    return (
      <WebhookSetup integrationType={integrationType} integration={integration} onSaved={onSaved} onCancel={onCancel} />
    );
  }
  return <WebhooksOverview />;
}
