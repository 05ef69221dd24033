// What the health monitor shows of each mailbox: its recorded outcomes (IMAP reads and SMTP sends both report), the
// mail held for an agent's decision (unprocessed inbound) and the replies queued to go out.
import { emailInbound, ticketEmails } from '@switchboard/database';
import { and, count, eq, inArray } from 'drizzle-orm';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import { integrationRowReport } from '../../../domain/integrations/health.ts';

export const emailHealth: NonNullable<IntegrationServer['health']> = async (deps, { organizationId, integrations }) => {
  if (integrations.length === 0) return [];
  const ids = integrations.map((i) => i.id);
  const [held, queued] = await Promise.all([
    deps.db
      .select({ integrationId: emailInbound.integrationId, messages: count() })
      .from(emailInbound)
      .where(
        and(
          eq(emailInbound.organizationId, organizationId),
          inArray(emailInbound.integrationId, ids),
          eq(emailInbound.status, 'held'),
        ),
      )
      .groupBy(emailInbound.integrationId),
    deps.db
      .select({ integrationId: ticketEmails.integrationId, messages: count() })
      .from(ticketEmails)
      .where(
        and(
          eq(ticketEmails.organizationId, organizationId),
          inArray(ticketEmails.integrationId, ids),
          eq(ticketEmails.status, 'queued'),
        ),
      )
      .groupBy(ticketEmails.integrationId),
  ]);
  const heldBy = new Map(held.map((h) => [h.integrationId, h.messages]));
  const queuedBy = new Map(queued.map((q) => [q.integrationId, q.messages]));
  return integrations.map((row) =>
    integrationRowReport(row, {
      backlog: {
        count: (heldBy.get(row.id) ?? 0) + (queuedBy.get(row.id) ?? 0),
        description: 'held inbound mail and replies queued to send',
      },
    }),
  );
};
