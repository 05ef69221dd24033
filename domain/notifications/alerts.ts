// Acknowledging a critical alert, from the dashboard, an email link or a Slack button: the first acknowledgement
// is recorded and the alert's workflow hears of it, which cancels its escalation. The database row is the truth
// (the escalation checks it again before it fires), the signal only ends the wait early.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Database, notificationAlerts } from '@switchboard/database';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { and, eq, isNull } from 'drizzle-orm';
import { notFound } from '../../common/errors.ts';
import { alertAcknowledgedSignal, notifyAlertWorkflowId } from '../../workflows/notify-contract.ts';

export type AlertAcknowledgement = {
  alertId: string;
  /** False when somebody had already acknowledged it (then `acknowledgedBy` is who). */
  acknowledgedNow: boolean;
  acknowledgedAt: string;
  acknowledgedBy: string | null;
  escalated: boolean;
};

/** `by` is a user id (dashboard, email link) or `slack:<user>` when the Slack user has no member. */
export async function acknowledgeAlert(
  deps: { db: Database; temporal: Client | null },
  organizationId: string,
  alertId: string,
  by: string,
): Promise<AlertAcknowledgement> {
  const scoped = and(eq(notificationAlerts.id, alertId), eq(notificationAlerts.organizationId, organizationId));
  const [updated] = await deps.db
    .update(notificationAlerts)
    .set({ acknowledgedAt: new Date(), acknowledgedBy: by })
    .where(and(scoped, isNull(notificationAlerts.acknowledgedAt)))
    .returning();
  const row = updated ?? (await deps.db.select().from(notificationAlerts).where(scoped))[0];
  if (!row) throw notFound('alert');
  if (updated && deps.temporal) {
    await deps.temporal.workflow
      .getHandle(notifyAlertWorkflowId(alertId))
      .signal(alertAcknowledgedSignal)
      .catch((error: unknown) => {
        // Already over (it escalated, or finished): the row says acknowledged either way.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      });
  }
  return {
    alertId,
    acknowledgedNow: !!updated,
    acknowledgedAt: row.acknowledgedAt!.toISOString(),
    acknowledgedBy: row.acknowledgedBy,
    escalated: row.escalatedAt !== null,
  };
}

// The email link carries a token that names the alert, the organisation and the person it was sent to, signed with
// a key derived from the server's secret: clicking it acknowledges as that person without a session, and a token
// cannot be altered to acknowledge another alert.
function ackKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('switchboard notification alert acknowledgement v1').digest();
}

export function alertAckToken(secret: string, organizationId: string, alertId: string, userId: string): string {
  const body = Buffer.from(JSON.stringify([organizationId, alertId, userId])).toString('base64url');
  const mac = createHmac('sha256', ackKey(secret)).update(body).digest('base64url');
  return `${body}.${mac}`;
}

export function readAlertAckToken(
  secret: string,
  token: string,
): { organizationId: string; alertId: string; userId: string } | null {
  const [body, mac] = token.split('.');
  if (!body || !mac) return null;
  const expected = createHmac('sha256', ackKey(secret)).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const [organizationId, alertId, userId] = JSON.parse(Buffer.from(body, 'base64url').toString()) as string[];
    if (typeof organizationId !== 'string' || typeof alertId !== 'string' || typeof userId !== 'string') return null;
    return { organizationId, alertId, userId };
  } catch {
    return null;
  }
}

/** The link an alert's email carries (GET acknowledges and shows a short page). */
export function alertAckUrl(
  publicUrl: string,
  secret: string,
  organizationId: string,
  alertId: string,
  userId: string,
): string {
  const url = new URL('/api/notifications/acknowledge', publicUrl);
  url.searchParams.set('token', alertAckToken(secret, organizationId, alertId, userId));
  return url.toString();
}
