// Two small integrations that live only in the test tree and plug in through the module list alone (the worker,
// the API's generic routes and the relay take them when a test passes them): the proof that a new integration
// needs no edit in a shared file. `probe` hears ticket events, serves a public and an authenticated route, and has
// a setting of its own (PROBE_GREETING, read by nothing shared); `probe-mail` has a config with a required field, for
// validation tests.
import { Router } from 'express';
import { z } from 'zod';
import { groupBy } from '../../common/group-by.ts';
import type { IntegrationDefinition, IntegrationServer } from '../../common/integration-contract.ts';
import { moduleSettings } from '../../common/integration-settings.ts';
import { namedSecrets } from '../../domain/integrations/config-schemas.ts';
import { createIntegration } from '../../domain/integrations/create-integration.ts';
import { createIntegrationInputFor } from '../../domain/integrations/schemas.ts';
import { updateIntegration } from '../../domain/integrations/update-integration.ts';
import { integrations } from '../../packages/integrations/index.ts';

/** The probe's own setting: what its public route greets with, one word (a probe's deployment could say "ahoy"). */
export const probeSettings = moduleSettings('probe', (env) => {
  const greeting = env.PROBE_GREETING ?? 'hello';
  if (!/^[a-z]{1,20}$/.test(greeting)) throw new Error(`PROBE_GREETING must be one lower-case word, got "${greeting}"`);
  return { greeting };
});

/** What the probe's relay subscriber received, per ticket, in order. */
export const probeReceived = new Map<string, Array<{ id: number; type: string }>>();

const probeServer: IntegrationServer = {
  relaySubscribers: () => [
    {
      name: 'probe',
      kind: 'workflow',
      async plan(events) {
        const wanted = events.filter((e) => e.type === 'comment.created' || e.type === 'ticket.created');
        return [...groupBy(wanted, (e) => e.ticketId)].map(([ticketId, ofTicket]) => ({
          target: `probe/${ticketId}`,
          ticketIds: [ticketId],
          async send() {
            probeReceived.set(ticketId, [
              ...(probeReceived.get(ticketId) ?? []),
              ...ofTicket.map((e) => ({ id: e.id, type: e.type })),
            ]);
          },
        }));
      },
    },
  ],
  routes: {
    public: ({ config }) => {
      const { greeting } = probeSettings.of(config);
      return Router().get('/probe/ping', (_req, res) => void res.json({ pong: true, greeting }));
    },
    authenticated: () =>
      Router().get('/api/probe/received/:ticketId', (req, res) => {
        res.json({ data: probeReceived.get(req.params.ticketId) ?? [] });
      }),
  },
};

export const probeIntegration: IntegrationDefinition = {
  type: 'probe',
  label: 'Probe',
  description: 'A test integration that records the ticket events it hears.',
  configSchema: z.object({ defaultChannel: z.string().min(1).max(100).optional() }).strict(),
  credentialsSchema: namedSecrets,
  // No component of that name exists: the dashboard falls back to the generic form.
  dashboard: { setupComponent: 'ProbeSetup' },
  settings: probeSettings,
  server: async () => probeServer,
};

export const probeMailIntegration: IntegrationDefinition = {
  type: 'probe-mail',
  label: 'Probe mail',
  description: 'A test integration whose config needs a sender address.',
  configSchema: z
    .object({
      fromAddress: z.email(),
      fromName: z.string().min(1).max(200).optional(),
      replyTo: z.email().optional(),
    })
    .strict(),
  credentialsSchema: namedSecrets,
  dashboard: { setupComponent: 'ProbeMailSetup' },
  server: async () => ({}),
};

/** The product's integrations plus the two probes. */
export const withProbes: readonly IntegrationDefinition[] = [...integrations, probeIntegration, probeMailIntegration];

/** The domain's create and update with the probes plugged in, as the API does with its module list. */
export const createIntegrationWithProbes = (...[db, keys, scope, input]: Parameters<typeof createIntegration>) =>
  createIntegration(db, keys, scope, input, createIntegrationInputFor(withProbes));
export const updateIntegrationWithProbes = (...[db, keys, scope, id, input]: Parameters<typeof updateIntegration>) =>
  updateIntegration(db, keys, scope, id, input, withProbes);
