// Integration configs at the edge: create/update input (strict) and the Integration view. The view
// has no credentials field at all, only a masked hint, so no code path can return a secret by accident.

import type { IntegrationDefinition } from '../../common/integration-contract.ts';
import { integrations } from '../../packages/integrations/index.ts';
import { z } from '../zod.ts';

const name = z.string().trim().min(1, 'name must not be empty').max(200, 'name is at most 200 characters');

function createInputFor(definition: IntegrationDefinition) {
  return z
    .object({
      integrationType: z.literal(definition.type),
      name,
      isActive: z.boolean().optional(),
      config: definition.configSchema,
      credentials: definition.credentialsSchema.optional(),
    })
    .strict();
}

/**
 * One strict shape per integration module, so a config error names the field (config.url, config.teamId). Only types
 * that have a module are offered: a type nothing serves would show Active and do nothing.
 */
export function createIntegrationInputFor(definitions: readonly IntegrationDefinition[]) {
  type Shape = ReturnType<typeof createInputFor>;
  return z.discriminatedUnion('integrationType', definitions.map(createInputFor) as unknown as [Shape, ...Shape[]]);
}
export const createIntegrationInput = createIntegrationInputFor(integrations);
export type CreateIntegrationInput = {
  integrationType: string;
  name: string;
  isActive?: boolean;
  config: Record<string, unknown>;
  credentials?: Record<string, unknown>;
};

/** The config and credentials are checked against the stored integration's type by updateIntegration. */
export const updateIntegrationInput = z
  .object({
    name: name.optional(),
    isActive: z.boolean().optional(),
    config: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'A JSON Merge Patch (RFC 7396) of the stored config: a key set to null is removed, an object merges into the ' +
          'stored object key by key (recursively), anything else (arrays too) replaces the stored value. The merged ' +
          'config is then validated as a whole; if it is invalid nothing changes.',
      ),
    credentials: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .describe(
        'New credentials replace the stored ones entirely (null removes them), except for types whose secrets are ' +
          'independent (email: IMAP and SMTP passwords, DKIM key), where they are a JSON Merge Patch of the stored ' +
          'ones: a key set sets that secret, null removes it, a key left out keeps it.',
      ),
  })
  .strict();
export type UpdateIntegrationInput = z.input<typeof updateIntegrationInput>;

const isoDateTime = z.iso.datetime({ offset: true });

export const integrationHealthStatuses = ['healthy', 'degraded', 'failing', 'unknown', 'disabled'] as const;

export const integrationView = z.object({
  id: z.uuid(),
  integrationType: z.string().describe('The integration module it belongs to (GET /api/integrations/catalogue)'),
  name: z.string(),
  isActive: z.boolean(),
  config: z.record(z.string(), z.unknown()),
  credentialsHint: z.string().nullable(),
  health: z.object({
    status: z
      .enum(integrationHealthStatuses)
      .describe(
        'disabled: switched off; failing: its latest outcome was an error; degraded: working, but some of its links ' +
          'wait on the third party’s rate limit (rateLimitedLinks); healthy: its latest outcome was a success; ' +
          'unknown: it has not done anything yet',
      ),
    /** How many of its links wait on the third party's rate limit right now. */
    rateLimitedLinks: z.number().int().min(0),
    lastSuccessAt: isoDateTime.nullable(),
    lastErrorAt: isoDateTime.nullable(),
    lastError: z.string().nullable(),
    disabledReason: z.string().nullable(),
  }),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type IntegrationView = z.infer<typeof integrationView>;
