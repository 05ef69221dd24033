// One batch of an endpoint's due deliveries: claim them (a lease, so a crashed batch's deliveries come back on
// their own), send them concurrently within the endpoint's concurrency cap and rate limit, then write every
// outcome in a handful of statements whatever the batch size. The endpoint workflow calls this in a loop, so
// Temporal's history grows per batch, never per delivery.
import {
  type Database,
  type Executor,
  integrationConfigs,
  integrationEvents,
  webhookAttempts,
  webhookDeliveries,
} from '@switchboard/database';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { type AttemptOutcome, classifyAttempt } from '../../common/webhooks/attempt-outcome.ts';
import { nextRetryDelay, type RetryPolicy, retryPolicy } from '../../common/webhooks/retry-schedule.ts';
import { secretsInEffect } from '../../common/webhooks/standard-webhooks.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import { type DeliveryAttempt, deliverWebhook } from '../http/deliver-webhook.ts';
import type { SafePoster } from '../http/safe-post.ts';
import { type DeliveryEndpoint, loadDeliveryEndpoint, loadDeliveryPolicy } from './endpoint.ts';

export type DeliverBatchInput = { endpointId: string; organizationId: string; maxBatch: number };

export type DeliverBatchResult = {
  /** `deleted`: the endpoint is gone and its workflow should end; `disabled`: nothing is sent until re-enabled. */
  endpoint: 'active' | 'disabled' | 'deleted';
  sent: number;
  succeeded: number;
  /** Deliveries are due right now (a full batch, or some released unsent): run the next batch at once. */
  more: boolean;
  /** Epoch ms of the earliest pending delivery that is not due yet (retry or lease), or null when none. */
  nextDueAt: number | null;
};

export type BatchDeps = {
  db: Database;
  credentialKeys: KeyRing;
  poster: SafePoster;
  /** The poster's request timeout: part of how long a claimed batch may take before its lease runs out. */
  timeoutMs: number;
  /** Divides every retry wait (tests only; 1 in production). */
  retryCompression: number;
  /** Added to a lease beyond the batch's worst-case duration. */
  leaseMarginMs: number;
  /** Tells Temporal the batch is alive (activity heartbeat). */
  heartbeat: () => void;
  random?: () => number;
};

/** A batch never plans more sending than the rate limit allows in this time, so its lease stays short. */
const BATCH_WINDOW_MS = 10_000;

type Claimed = { id: string; message_id: string; attempt_count: number; payload: unknown };

type Sent = { delivery: Claimed; attempt: DeliveryAttempt; outcome: AttemptOutcome };

type DeliveryUpdate = {
  id: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempt_count: number;
  next_attempt_at: string | null;
  last_attempt_at: string;
  succeeded_at: string | null;
};

export async function deliverDueBatch(deps: BatchDeps, input: DeliverBatchInput): Promise<DeliverBatchResult> {
  const { db } = deps;
  const endpoint = await loadDeliveryEndpoint(db, deps.credentialKeys, input.organizationId, input.endpointId);
  if (!endpoint) return { endpoint: 'deleted', sent: 0, succeeded: 0, more: false, nextDueAt: null };
  if (!endpoint.enabled) return { endpoint: 'disabled', sent: 0, succeeded: 0, more: false, nextDueAt: null };
  const policy = await loadDeliveryPolicy(db, input.organizationId);
  const retry = retryPolicy({ delaysMs: policy.retryDelaysMs, compression: deps.retryCompression });

  const limit = Math.max(
    1,
    Math.min(input.maxBatch, Math.floor((endpoint.rateLimitPerSecond * BATCH_WINDOW_MS) / 1000)),
  );
  const leaseMs = Math.ceil((limit / endpoint.rateLimitPerSecond) * 1000) + deps.timeoutMs + deps.leaseMarginMs;
  const claimed = await claimDue(db, endpoint, limit, leaseMs);

  const { sent, unsent, throttledUntil } = await sendAll(deps, endpoint, claimed, retry);
  const disableReason = sent
    .map((s) => s.outcome)
    .find((o): o is Extract<AttemptOutcome, { verdict: 'disable_endpoint' }> => o.verdict === 'disable_endpoint');
  const succeeded = sent.filter((s) => s.outcome.verdict === 'delivered').length;

  await db.transaction(async (tx) => {
    const updates = sent.map((s) => deliveryUpdate(s, retry, deps.random ?? Math.random));
    if (sent.length > 0) {
      await tx.insert(webhookAttempts).values(sent.map((s, i) => attemptRow(endpoint, s, updates[i]!)));
      await tx.execute(sql`
        update webhook_deliveries d set
          status = v.status::webhook_delivery_status, attempt_count = v.attempt_count,
          next_attempt_at = v.next_attempt_at, last_attempt_at = v.last_attempt_at,
          succeeded_at = v.succeeded_at, lease_until = null, updated_at = now()
        from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as v(id uuid, status text, attempt_count int,
          next_attempt_at timestamptz, last_attempt_at timestamptz, succeeded_at timestamptz)
        where d.id = v.id`);
    }
    if (unsent.length > 0) {
      await tx
        .update(webhookDeliveries)
        .set({ leaseUntil: null })
        .where(
          inArray(
            webhookDeliveries.id,
            unsent.map((d) => d.id),
          ),
        );
    }
    // In the same transaction as the 410 attempt, so nobody reads that attempt on an endpoint still shown active.
    if (disableReason) await disableEndpoint(tx, endpoint, `the endpoint answered ${disableReason.reason}`);
    const last = sent.at(-1);
    if (succeeded > 0) await recordIntegrationOutcome(tx, endpoint.organizationId, endpoint.id, { ok: true });
    else if (last && last.outcome.verdict !== 'delivered')
      await recordIntegrationOutcome(tx, endpoint.organizationId, endpoint.id, {
        ok: false,
        error: describe(last),
      });
  });

  let endpointState: DeliverBatchResult['endpoint'] = 'active';
  if (disableReason) {
    endpointState = 'disabled';
  } else if (succeeded === 0 && sent.length > 0) {
    if (await failingTooLong(db, endpoint, policy.failureDisableAfterMs)) endpointState = 'disabled';
  }
  if (endpointState === 'disabled')
    return { endpoint: 'disabled', sent: sent.length, succeeded, more: false, nextDueAt: null };

  const next = await pendingSummary(db, endpoint.id);
  if (throttledUntil !== undefined) {
    // The receiver asked us to slow down: nothing more to it before then, due or not.
    return {
      endpoint: 'active',
      sent: sent.length,
      succeeded,
      more: false,
      nextDueAt: Math.max(throttledUntil, next.nextDueAt ?? 0),
    };
  }
  return { endpoint: 'active', sent: sent.length, succeeded, more: next.dueNow, nextDueAt: next.nextDueAt };
}

async function claimDue(db: Database, endpoint: DeliveryEndpoint, limit: number, leaseMs: number): Promise<Claimed[]> {
  const result = await db.execute<Claimed>(sql`
    with due as (
      select id from webhook_deliveries
      where endpoint_id = ${endpoint.id} and organization_id = ${endpoint.organizationId} and status = 'pending'
        and next_attempt_at <= now() and (lease_until is null or lease_until < now())
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
    update webhook_deliveries d set lease_until = now() + ${leaseMs} * interval '1 millisecond'
    from due, webhook_messages m
    where d.id = due.id and m.id = d.message_id
    returning d.id, d.message_id, d.attempt_count, m.payload`);
  return result.rows;
}

/**
 * Sends within the concurrency cap, each send starting no sooner than its slot of the rate limit. A throttling
 * answer (429, 503 … with or without Retry-After) stops further sends of this batch: the receiver said it is
 * overloaded, and the unsent deliveries go back to the queue untouched.
 */
async function sendAll(deps: BatchDeps, endpoint: DeliveryEndpoint, claimed: Claimed[], retry: RetryPolicy) {
  const sent: Sent[] = [];
  const unsent: Claimed[] = [];
  let throttledUntil: number | undefined;
  const interval = 1000 / endpoint.rateLimitPerSecond;
  const started = Date.now();
  let nextIndex = 0;
  const beat = setInterval(deps.heartbeat, 1000);
  try {
    const lane = async () => {
      for (;;) {
        const index = nextIndex++;
        const delivery = claimed[index];
        if (delivery === undefined) return;
        const wait = started + index * interval - Date.now();
        if (wait > 0 && throttledUntil === undefined) await new Promise((r) => setTimeout(r, wait));
        if (throttledUntil !== undefined) {
          unsent.push(delivery);
          continue;
        }
        const now = Date.now();
        const attempt = await deliverWebhook(deps.poster, {
          url: endpoint.url,
          msgId: delivery.message_id,
          body: JSON.stringify(delivery.payload),
          secrets: secretsInEffect(endpoint.keys, now),
          headers: endpoint.headers,
          now,
        });
        const outcome = classifyAttempt(
          attempt.kind === 'response'
            ? {
                kind: 'response',
                status: attempt.status,
                retryAfter: attempt.retryAfter,
                receivedAt: attempt.receivedAt,
              }
            : { kind: 'error', code: attempt.code },
        );
        if (outcome.verdict === 'retry' && outcome.throttle) {
          const pause = Math.round(Math.min(outcome.retryAfterMs ?? 0, retry.maxRetryAfterMs) / retry.compression);
          throttledUntil = Math.max(throttledUntil ?? 0, Date.now() + pause);
        }
        sent.push({ delivery, attempt, outcome });
      }
    };
    await Promise.all(Array.from({ length: Math.min(endpoint.maxConcurrency, claimed.length) }, lane));
    // The next batch starts where this one's rate-limit slots end, so batches back to back keep the rate too.
    const slotsEnd = started + sent.length * interval - Date.now();
    if (slotsEnd > 0 && throttledUntil === undefined) await new Promise((r) => setTimeout(r, slotsEnd));
  } finally {
    clearInterval(beat);
  }
  return { sent, unsent, throttledUntil };
}

function deliveryUpdate(
  { delivery, attempt, outcome }: Sent,
  retry: RetryPolicy,
  random: () => number,
): DeliveryUpdate {
  const attemptNumber = delivery.attempt_count + 1;
  const at = new Date(attempt.attemptedAt).toISOString();
  const base = {
    id: delivery.id,
    attempt_count: attemptNumber,
    last_attempt_at: at,
    succeeded_at: null,
    next_attempt_at: null,
  };
  if (outcome.verdict === 'delivered') return { ...base, status: 'succeeded', succeeded_at: new Date().toISOString() };
  if (outcome.verdict === 'retry') {
    const delay = nextRetryDelay(retry, {
      attemptsMade: attemptNumber,
      random,
      ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
    });
    if (delay !== undefined)
      return { ...base, status: 'pending', next_attempt_at: new Date(Date.now() + delay).toISOString() };
  }
  return { ...base, status: 'failed' };
}

function attemptRow(endpoint: DeliveryEndpoint, { delivery, attempt, outcome }: Sent, update: DeliveryUpdate) {
  const response = attempt.kind === 'response' ? attempt : undefined;
  const excerpt = response
    ? (response.location ? `redirect to ${response.location} not followed\n` : '') + response.bodyExcerpt
    : attempt.kind === 'error'
      ? attempt.message
      : '';
  return {
    organizationId: endpoint.organizationId,
    deliveryId: delivery.id,
    endpointId: endpoint.id,
    attemptNumber: update.attempt_count,
    startedAt: new Date(attempt.attemptedAt),
    durationMs: attempt.durationMs,
    statusCode: response?.status ?? null,
    responseExcerpt: excerpt.slice(0, 2048) || null,
    errorClass: attempt.kind === 'error' ? attempt.code : null,
    outcome:
      outcome.verdict === 'delivered'
        ? 'succeeded'
        : outcome.verdict === 'disable_endpoint'
          ? 'disabled'
          : update.status === 'pending'
            ? 'retry'
            : 'failed',
  };
}

function describe({ attempt, outcome }: Sent): string {
  if (attempt.kind === 'error') return `${attempt.code}: ${attempt.message}`;
  return outcome.verdict === 'delivered' ? 'delivered' : outcome.reason;
}

/** Disables once: only the call that flips is_active records the event, so concurrent batches record one. */
async function disableEndpoint(db: Executor, endpoint: DeliveryEndpoint, reason: string): Promise<void> {
  await db.transaction(async (tx) => {
    const flipped = await tx
      .update(integrationConfigs)
      .set({ isActive: false, disabledReason: reason, updatedAt: new Date() })
      .where(
        and(
          eq(integrationConfigs.id, endpoint.id),
          eq(integrationConfigs.organizationId, endpoint.organizationId),
          eq(integrationConfigs.isActive, true),
        ),
      )
      .returning({ id: integrationConfigs.id });
    if (flipped.length === 0) return;
    await tx.insert(integrationEvents).values({
      organizationId: endpoint.organizationId,
      integrationConfigId: endpoint.id,
      type: 'endpoint.disabled',
      payload: { reason },
    });
  });
}

/**
 * Every attempt since the last success (or since an admin last switched the endpoint on) failed, and the first of
 * them is older than the window: disable. Only asked after a batch without a success.
 */
async function failingTooLong(db: Database, endpoint: DeliveryEndpoint, windowMs: number): Promise<boolean> {
  const result = await db.execute<{ failing_since: string | null }>(sql`
    select min(a.started_at) as failing_since from webhook_attempts a
    where a.endpoint_id = ${endpoint.id} and a.attempt_number > 0
      and a.started_at > coalesce(greatest(
        (select last_success_at from integration_configs where id = ${endpoint.id}),
        (select max(created_at) from integration_events
          where integration_config_id = ${endpoint.id} and type = 'endpoint.enabled')), '-infinity')`);
  const since = result.rows[0]?.failing_since;
  if (!since) return false;
  const failingMs = Date.now() - new Date(since).getTime();
  if (failingMs < windowMs) return false;
  await disableEndpoint(
    db,
    endpoint,
    `every attempt failed for ${formatDuration(failingMs)} (since ${new Date(since).toISOString()})`,
  );
  return true;
}

function formatDuration(ms: number): string {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} days`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} hours`;
  return `${(ms / 1000).toFixed(1)} seconds`;
}

async function pendingSummary(db: Database, endpointId: string) {
  const result = await db.execute<{ next_due: string | null; due_now: boolean }>(sql`
    select min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) as next_due,
      coalesce(bool_or(next_attempt_at <= now() and (lease_until is null or lease_until < now())), false) as due_now
    from webhook_deliveries where endpoint_id = ${endpointId} and status = 'pending'`);
  const row = result.rows[0];
  return { nextDueAt: row?.next_due ? new Date(row.next_due).getTime() : null, dueNow: row?.due_now ?? false };
}
