// A ticket's email thread and the mailboxes that can send from it, as the ticket page loads them. The thread is read
// again every SEND_POLL_MS while an email of it is queued, so "queued" turns into "sent" (or "failed", with the mail
// server's words) without a reload.
import { useEffect } from 'react';
import { type Email, type Integration, listIntegrations, listTicketEmails } from './api.ts';
import { type Loaded, useLoader } from './useLoader.ts';

export const SEND_POLL_MS = 2000;

export function useTicketEmails(ticketId: string): Loaded<Email[]> {
  const thread = useLoader(`emails:${ticketId}`, async () => (await listTicketEmails(ticketId)).data);
  const queued = thread.data?.some((e) => e.status === 'queued') ?? false;
  // A new timer after each finished read while anything is queued; none once everything is sent or failed.
  const { reload, loading } = thread;
  useEffect(() => {
    if (!queued || loading) return;
    const timer = setTimeout(() => void reload(), SEND_POLL_MS);
    return () => clearTimeout(timer);
  }, [queued, loading, reload]);
  return thread;
}

/** An active mailbox that sends (has SMTP settings): the composer's possible senders. */
export function isSendingMailbox(integration: Integration): boolean {
  return integration.integrationType === 'email' && integration.isActive && !!integration.config.smtp;
}

/** The organisation's email integrations (any member may list them): all of them, and the ones that send. */
export function useMailboxes(): { all: Integration[]; sending: Integration[]; error: string | null } {
  const loaded = useLoader('email-mailboxes', async () =>
    (await listIntegrations()).data.filter((i) => i.integrationType === 'email'),
  );
  const all = loaded.data ?? [];
  return { all, sending: all.filter(isSendingMailbox), error: loaded.error };
}
