// Test helpers for webhook delivery: endpoints written straight to the database (the API has its own tests),
// organisation retry settings, synthetic ticket events, and reading back what the delivery code recorded.
import { randomUUID } from 'node:crypto';
import {
  integrationConfigs,
  integrationEvents,
  organizationSettings,
  webhookAttempts,
  webhookDeliveries,
  webhookMessages,
} from '@switchboard/database';
import { asc, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../common/config.ts';
import { sealCredentials } from '../../common/credentials.ts';
import type { DispatchedTicketEvent, TicketEventType } from '../../common/ticket-events.ts';
import { generateSecret } from '../../common/webhooks/standard-webhooks.ts';
import { loadServiceConfig } from '../../packages/integrations/index.ts';
import type { RecordedRequest } from '../../test/receivers/webhook-receiver.ts';
import { testDatabase } from '../../test/support/database.ts';
import type { SafePoster } from '../http/safe-post.ts';
import type { BatchDeps } from './deliver-batch.ts';

/** What deliverDueBatch needs to run on its own (no Temporal): the test database, the configured keys, a poster. */
export function batchDeps(poster: SafePoster, overrides: Partial<BatchDeps> = {}): BatchDeps {
  return {
    db: testDatabase().db,
    credentialKeys: loadServiceConfig().credentialKeys,
    poster,
    timeoutMs: 2_000,
    retryCompression: 1,
    leaseMarginMs: 500,
    heartbeat: () => {},
    ...overrides,
  };
}

export type TestEndpoint = { id: string; organizationId: string; secret: string };

export async function makeEndpoint(
  organizationId: string,
  options: {
    url: string;
    eventTypes?: TicketEventType[];
    enabled?: boolean;
    rateLimitPerSecond?: number;
    maxConcurrency?: number;
    previousSecret?: { secret: string; validUntil: Date };
  },
): Promise<TestEndpoint> {
  const { db } = testDatabase();
  const id = randomUUID();
  const secret = generateSecret();
  const credentials = {
    secret,
    ...(options.previousSecret
      ? {
          previousSecret: options.previousSecret.secret,
          previousSecretValidUntil: options.previousSecret.validUntil.toISOString(),
        }
      : {}),
  };
  await db.insert(integrationConfigs).values({
    id,
    organizationId,
    integrationType: 'webhook',
    name: options.url,
    isActive: options.enabled ?? true,
    config: {
      url: options.url,
      description: '',
      eventTypes: options.eventTypes ?? ['ticket.created'],
      rateLimitPerSecond: options.rateLimitPerSecond ?? 1000,
      maxConcurrency: options.maxConcurrency ?? 10,
      headerNames: [],
    },
    credentials: sealCredentials(loadConfig().credentialKeys, organizationId, id, credentials),
  });
  return { id, organizationId, secret };
}

/** Short schedules make a day of retries take a second; `disableAfterMs` shrinks the 5-day failing window. */
export async function setWebhookPolicy(
  organizationId: string,
  policy: { retryScheduleMs?: number[]; disableAfterMs?: number },
): Promise<void> {
  const values = {
    webhookRetryScheduleMs: policy.retryScheduleMs ?? null,
    webhookFailureDisableAfterMs: policy.disableAfterMs ?? null,
  };
  await testDatabase()
    .db.insert(organizationSettings)
    .values({ organizationId, ...values })
    .onConflictDoUpdate({ target: organizationSettings.organizationId, set: values });
}

let lastEventId = 9_000_000_000;

/** A ticket event as the ticket workflow hands it on (ids far above real ones, so they never collide). */
export function syntheticEvent(
  organizationId: string,
  type: TicketEventType = 'ticket.created',
  payload: unknown = { note: 'synthetic' },
): DispatchedTicketEvent {
  lastEventId += 1;
  return {
    id: lastEventId,
    organizationId,
    ticketId: randomUUID(),
    type,
    payload,
    actor: { type: 'system', id: null },
    createdAt: new Date().toISOString(),
  };
}

export async function deliveriesOf(endpointId: string) {
  return testDatabase()
    .db.select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .orderBy(asc(webhookDeliveries.createdAt));
}

export async function attemptsOf(deliveryId: string) {
  return testDatabase()
    .db.select()
    .from(webhookAttempts)
    .where(eq(webhookAttempts.deliveryId, deliveryId))
    .orderBy(asc(webhookAttempts.attemptNumber), asc(webhookAttempts.id));
}

export async function endpointRow(endpointId: string) {
  const [row] = await testDatabase().db.select().from(integrationConfigs).where(eq(integrationConfigs.id, endpointId));
  return row!;
}

export async function integrationEventsOf(endpointId: string) {
  return testDatabase()
    .db.select()
    .from(integrationEvents)
    .where(eq(integrationEvents.integrationConfigId, endpointId));
}

export async function messageOfEvent(eventId: number) {
  const [row] = await testDatabase().db.select().from(webhookMessages).where(eq(webhookMessages.eventId, eventId));
  return row;
}

/** Verifies a received request with the standardwebhooks package (a verifier we did not write); returns the body. */
export function verifyWith(secret: string, request: RecordedRequest): unknown {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
}
