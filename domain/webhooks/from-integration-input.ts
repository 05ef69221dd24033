// The generic integrations API (POST /api/integrations) can add a webhook too. It goes through createEndpoint, so
// every endpoint has a generated secret and passes the same URL policy, whichever API made it.
import type { Database } from '@switchboard/database';
import { RequestError, validationFailed } from '../../common/errors.ts';
import type { CreateIntegrationInput } from '../integrations/schemas.ts';
import type { Scope } from '../scope.ts';
import { createEndpoint, type EndpointSettings } from './create-endpoint.ts';

type WebhookIntegrationInput = CreateIntegrationInput;

/** The new endpoint's id. Errors name fields of the generic body (body.config.url, body.credentials). */
export async function createWebhookThroughIntegrations(
  db: Database,
  settings: EndpointSettings,
  scope: Scope,
  input: WebhookIntegrationInput,
): Promise<string> {
  if (input.credentials !== undefined)
    throw validationFailed('a webhook takes no credentials: its signing secret is generated', [
      {
        path: 'body.credentials',
        message:
          'the signing secret is generated (POST /api/webhooks/endpoints shows it; rotate-secret renews it) and ' +
          'custom headers are set with /api/webhooks/endpoints',
      },
    ]);
  const { headerNames: _, ...config } = input.config as Record<string, unknown>;
  try {
    const created = await createEndpoint(db, settings, scope, {
      ...(config as { url: string; eventTypes: string[] }),
      description: (config.description as string | undefined) ?? input.name,
      enabled: input.isActive,
    });
    return created.endpoint.id;
  } catch (error) {
    if (!(error instanceof RequestError) || !error.details) throw error;
    const details = error.details.map((d) => ({ ...d, path: `body.config.${d.path}` }));
    throw new RequestError(error.status, error.code, error.message, details);
  }
}
