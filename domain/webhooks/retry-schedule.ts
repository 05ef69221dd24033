// An organisation's webhook retry schedule: the waits after each failed attempt, in seconds. Stored in
// organization_settings.webhook_retry_schedule_ms with the initial send (0) first, which is what the delivery code
// reads (activities/webhooks/endpoint.ts, loadDeliveryPolicy); null there means the built-in default.
import { type Database, organizationSettings } from '@switchboard/database';
import { eq, sql } from 'drizzle-orm';
import { DEFAULT_RETRY_DELAYS_MS } from '../../common/webhooks/retry-schedule.ts';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { z } from '../zod.ts';

export const MAX_RETRY_STEPS = 20;
export const MAX_RETRY_STEP_SECONDS = 24 * 60 * 60;

const steps = z
  .array(
    z
      .number()
      .int('a wait is a whole number of seconds')
      .min(1, 'a wait is at least 1 second')
      .max(MAX_RETRY_STEP_SECONDS, `a wait is at most ${MAX_RETRY_STEP_SECONDS} seconds (24 hours)`),
  )
  .min(1, 'give at least one retry')
  .max(MAX_RETRY_STEPS, `at most ${MAX_RETRY_STEPS} retries`)
  .superRefine((waits, ctx) => {
    for (let i = 1; i < waits.length; i++)
      if (waits[i]! < waits[i - 1]!)
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `each wait must be at least as long as the one before (${waits[i - 1]} s)`,
        });
  })
  .describe(
    `Seconds to wait after each failed attempt, in order: 1 to ${MAX_RETRY_STEPS} waits, each 1 s to 24 h and none ` +
      'shorter than the one before. Each wait varies by ±10% when applied.',
  );

export const retryScheduleInput = z
  .object({ retryDelaysSeconds: steps.nullable().describe('The waits; null goes back to the default schedule') })
  .strict();
export type RetryScheduleInput = z.input<typeof retryScheduleInput>;

export const retryScheduleView = z.object({
  retryDelaysSeconds: z.array(z.number().int()),
  isDefault: z.boolean(),
  defaultRetryDelaysSeconds: z.array(z.number().int()),
});
export type RetryScheduleView = z.infer<typeof retryScheduleView>;

const DEFAULT_WAITS_SECONDS = DEFAULT_RETRY_DELAYS_MS.slice(1).map((ms) => ms / 1000);

function toView(storedMs: number[] | null | undefined): RetryScheduleView {
  const isDefault = !storedMs || storedMs.length === 0;
  return {
    retryDelaysSeconds: isDefault ? DEFAULT_WAITS_SECONDS : storedMs.slice(1).map((ms) => Math.round(ms / 1000)),
    isDefault,
    defaultRetryDelaysSeconds: DEFAULT_WAITS_SECONDS,
  };
}

export async function getRetrySchedule(db: Database, scope: Scope): Promise<RetryScheduleView> {
  const [row] = await db
    .select({ schedule: organizationSettings.webhookRetryScheduleMs })
    .from(organizationSettings)
    .where(eq(organizationSettings.organizationId, scope.organizationId));
  return toView(row?.schedule);
}

/** Sets (or with null, resets) the schedule; the next delivery batch of every endpoint uses it. */
export async function setRetrySchedule(
  db: Database,
  scope: Scope,
  rawInput: RetryScheduleInput,
): Promise<RetryScheduleView> {
  const input = parseInput(retryScheduleInput, rawInput);
  const storedMs = input.retryDelaysSeconds === null ? null : [0, ...input.retryDelaysSeconds.map((s) => s * 1000)];
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ schedule: organizationSettings.webhookRetryScheduleMs })
      .from(organizationSettings)
      .where(eq(organizationSettings.organizationId, scope.organizationId))
      .for('update');
    await tx
      .insert(organizationSettings)
      .values({ organizationId: scope.organizationId, webhookRetryScheduleMs: storedMs })
      .onConflictDoUpdate({
        target: organizationSettings.organizationId,
        set: { webhookRetryScheduleMs: storedMs, updatedAt: sql`now()` },
      });
    const view = toView(storedMs);
    await recordAudit(tx, scope, {
      action: 'webhooks.retry_schedule_changed',
      entityType: 'organization',
      entityId: scope.organizationId,
      metadata: { from: toView(before?.schedule).retryDelaysSeconds, to: view.retryDelaysSeconds },
    });
    return view;
  });
}
