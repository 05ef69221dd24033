// What each integration type may store: one entry per type, each a strict zod schema for the config
// (visible to any member) and one for the credentials (encrypted at rest, never returned). Adding an
// integration type means adding its entry here; the API routes, validation errors and OpenAPI document
// follow from it.

import { ticketEventTypes } from '../../common/ticket-events.ts';
import { z } from '../zod.ts';
import { linearConfigSchema, linearCredentialsSchema } from './linear-config.ts';

export const integrationTypes = ['linear', 'slack', 'email', 'webhook'] as const;
export type IntegrationType = (typeof integrationTypes)[number];

/**
 * Secrets as a flat object of named values (e.g. { apiKey } or { botToken, signingSecret }). Types
 * that know their secrets' shape replace this with a strict schema of their own.
 */
export const namedSecrets = z
  .record(z.string().min(1).max(100), z.union([z.string().min(1).max(10_000), z.number(), z.boolean()]))
  .refine((value) => Object.keys(value).length > 0, 'credentials must name at least one secret')
  .refine((value) => Object.keys(value).length <= 20, 'at most 20 credential fields');

/**
 * An http(s) URL. Whether plain http is allowed is the deployment's policy (SWITCHBOARD_WEBHOOK_ALLOW_HTTP), applied
 * by createEndpoint with an error naming the schemes allowed; which hosts are reachable (no private addresses) is
 * decided at delivery time, when the name is resolved, not here: DNS can change after the URL is saved.
 */
const httpsUrl = z
  .url({ protocol: /^https?$/, error: 'must be an https URL (or http where the deployment allows it)' })
  .max(2000)
  .refine((url) => {
    const parsed = URL.parse(url);
    return !parsed?.username && !parsed?.password;
  }, 'must not contain a user name or password: put secrets in credentials');

export const integrationSchemas = {
  linear: {
    config: linearConfigSchema,
    credentials: linearCredentialsSchema,
  },
  slack: {
    config: z
      .object({
        /** Channel id (C…) or name that ticket notifications go to unless a rule says otherwise. */
        defaultChannel: z.string().min(1).max(100).optional(),
      })
      .strict(),
    credentials: namedSecrets,
  },
  email: {
    config: z
      .object({
        fromAddress: z.email(),
        fromName: z.string().min(1).max(200).optional(),
        replyTo: z.email().optional(),
      })
      .strict(),
    credentials: namedSecrets,
  },
  // Created through createEndpoint (domain/webhooks), which applies the URL and header policy and generates the
  // secret; this schema is the generic API's view of the same fields.
  webhook: {
    config: z
      .object({
        url: httpsUrl,
        description: z.string().max(500).optional(),
        eventTypes: z
          .array(z.enum([...ticketEventTypes] as [string, ...string[]]))
          .min(1, 'subscribe to at least one event type')
          .transform((types) => [...new Set(types)]),
        rateLimitPerSecond: z.number().int().min(1).max(1000).optional(),
        maxConcurrency: z.number().int().min(1).max(100).optional(),
        excludeInternalNotes: z.boolean().optional(),
      })
      .strict(),
    credentials: namedSecrets,
  },
} as const satisfies Record<IntegrationType, { config: z.ZodType; credentials: z.ZodType }>;

export type IntegrationConfig<T extends IntegrationType> = z.infer<(typeof integrationSchemas)[T]['config']>;
