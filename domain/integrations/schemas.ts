// Integration configs at the edge: create/update input (strict) and the Integration view. The view
// has no credentials field at all, only a masked hint, so no code path can return a secret by accident.
import { z } from '../zod.ts';
import { type IntegrationType, integrationSchemas, integrationTypes } from './config-schemas.ts';

const name = z.string().trim().min(1, 'name must not be empty').max(200, 'name is at most 200 characters');

function createInputFor<T extends IntegrationType>(type: T) {
  return z
    .object({
      integrationType: z.literal(type),
      name,
      isActive: z.boolean().optional(),
      config: integrationSchemas[type].config,
      credentials: integrationSchemas[type].credentials.optional(),
    })
    .strict();
}

/** One strict shape per integration type, so a config error names the field (config.url, config.fromAddress). */
export const createIntegrationInput = z.discriminatedUnion('integrationType', [
  createInputFor('linear'),
  createInputFor('slack'),
  createInputFor('email'),
  createInputFor('webhook'),
]);
export type CreateIntegrationInput = z.input<typeof createIntegrationInput>;

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
    /** New credentials replace the old ones entirely; null removes them. */
    credentials: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .strict();
export type UpdateIntegrationInput = z.input<typeof updateIntegrationInput>;

const isoDateTime = z.iso.datetime({ offset: true });

export const integrationHealthStatuses = ['healthy', 'failing', 'unknown', 'disabled'] as const;

export const integrationView = z.object({
  id: z.uuid(),
  integrationType: z.enum(integrationTypes),
  name: z.string(),
  isActive: z.boolean(),
  config: z.record(z.string(), z.unknown()),
  credentialsHint: z.string().nullable(),
  health: z.object({
    status: z.enum(integrationHealthStatuses),
    lastSuccessAt: isoDateTime.nullable(),
    lastErrorAt: isoDateTime.nullable(),
    lastError: z.string().nullable(),
    disabledReason: z.string().nullable(),
  }),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type IntegrationView = z.infer<typeof integrationView>;
