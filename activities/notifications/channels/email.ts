// The email channel: a member's or a requester's notifications, sent through the organisation's email integration
// (its oldest active mailbox that can send, over the same pooled SMTP transport as ticket replies). A digest is one
// mail listing its items; otherwise one mail per item. Every mail says it is machine-made (Auto-Submitted,
// X-Auto-Response-Suppress) and carries the mailbox's loop header, so neither vacation responders nor our own inbox
// (which ingests mail sent to the support address) answer it or make a ticket of it.
//
// SMTP has no idempotency key: a mail's Message-ID is derived from its notification id, so the same notification
// sent again after a retry (a worker killed after the server accepted it, or an earlier item of the same batch
// going out before a later one failed) shows once in mail clients, as for replies (activities/email/send.ts).
import { integrationConfigs } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq } from 'drizzle-orm';
import { loadIntegrationCredentials } from '../../../common/credentials.ts';
import { splitAddress } from '../../../common/email/addresses.ts';
import { LOOP_HEADER } from '../../../common/email/auto-reply.ts';
import { newMessageId } from '../../../common/email/outbound-headers.ts';
import { escapeHtml, textToHtml } from '../../../common/email/template.ts';
import { type EmailConfig, type EmailCredentials, readEmailConfig } from '../../../domain/email/config.ts';
import { recordIntegrationOutcome } from '../../../domain/integrations/record-outcome.ts';
import { alertAckUrl } from '../../../domain/notifications/alerts.ts';
import { emailSettings } from '../../../packages/integrations/email/settings.ts';
import { describeMailError } from '../../email/connect.ts';
import { loopHeaderValue, transportFor } from '../../email/send.ts';
import type { ChannelDeps, ChannelSender, NotificationItem, OutgoingNotification, SendOutcome } from './types.ts';

type Sender = { integrationId: string; name: string; config: EmailConfig };

export const NO_MAILBOX_REASON =
  'no email integration that can send is connected and switched on (Integration settings → Email, with SMTP settings)';

export const sendEmailNotification: ChannelSender = async (deps, notification) => {
  const { recipient, items } = notification;
  if (items.length === 0) return [];
  if (recipient.kind === 'slack_channel')
    return failAll(items, 'a Slack channel has no email address: this rule cannot send it by email');
  const sender = await senderOf(deps, notification.organizationId);
  if (!sender) return failAll(items, NO_MAILBOX_REASON);
  const credentials = (await loadIntegrationCredentials(
    deps.db,
    deps.config.credentialKeys,
    notification.organizationId,
    sender.integrationId,
  )) as EmailCredentials | null;

  const mails: Array<{ ids: number[]; mail: Mail }> = notification.digest
    ? [{ ids: items.map((i) => i.id), mail: digestMail(deps, notification, items) }]
    : items.map((item) => ({ ids: [item.id], mail: itemMail(deps, notification, item) }));

  const outcomes: SendOutcome[] = [];
  const smtp = sender.config.smtp!;
  for (const { ids, mail } of mails) {
    try {
      const transporter = await transportFor(
        { settings: emailSettings.of(deps.config) },
        sender.integrationId,
        sender.config,
        credentials,
      );
      await transporter.sendMail({
        messageId: newMessageId(mail.key, splitAddress(sender.config.address).domain),
        from: { name: sender.config.fromName ?? sender.name, address: sender.config.address },
        to: recipient.name ? { name: recipient.name, address: recipient.email } : recipient.email,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: {
          // RFC 3834: machine-made, not a reply; responders must not answer it.
          'Auto-Submitted': 'auto-generated',
          'X-Auto-Response-Suppress': 'All',
          [LOOP_HEADER]: loopHeaderValue(sender.integrationId),
        },
      });
      for (const id of ids) outcomes.push({ id, ok: true });
    } catch (error) {
      const described = describeMailError(error, 'SMTP', smtp.host);
      const code = (error as { responseCode?: number }).responseCode;
      if (described.type === 'MailConfigError' || (code !== undefined && code >= 500 && code < 600)) {
        // The deployment refuses the mailbox's settings, or the server refused this mail for good (an unknown
        // recipient, a policy): no retry changes that. Said on the mailbox's health too, without the content.
        const reason = `the mail server refused the notification email: ${described.message}`;
        await noteHealth(deps, notification.organizationId, sender.integrationId, {
          ok: false,
          error: `a notification email was not sent: ${described.message}`,
        });
        for (const id of ids) outcomes.push({ id, ok: false, reason, permanent: true });
        continue;
      }
      await noteHealth(deps, notification.organizationId, sender.integrationId, {
        ok: false,
        error: `${described.message}; notification emails wait and are retried`,
      });
      throw ApplicationFailure.create({ type: 'MailSendError', message: described.message });
    }
  }
  if (outcomes.some((o) => o.ok))
    await noteHealth(deps, notification.organizationId, sender.integrationId, { ok: true });
  return outcomes;
};

/**
 * The mailbox's health, as the email module records it. Bookkeeping only: once a mail went out, a failure to write
 * this must not fail the send (its retry would send the mail again), so it is logged instead.
 */
async function noteHealth(
  deps: ChannelDeps,
  organizationId: string,
  integrationId: string,
  outcome: Parameters<typeof recordIntegrationOutcome>[3],
): Promise<void> {
  await recordIntegrationOutcome(deps.db, organizationId, integrationId, outcome).catch((error: unknown) =>
    deps.logger.warn({ err: error, integrationId }, 'notification email: integration health not recorded'),
  );
}

function failAll(items: NotificationItem[], reason: string): SendOutcome[] {
  return items.map((item) => ({ id: item.id, ok: false, reason, permanent: true }));
}

/**
 * The mailbox notifications go out from: the organisation's oldest email integration that is switched on and has
 * SMTP settings (an organisation with several support addresses sends notifications from its first).
 */
async function senderOf(deps: ChannelDeps, organizationId: string): Promise<Sender | null> {
  const rows = await deps.db
    .select({ id: integrationConfigs.id, name: integrationConfigs.name, config: integrationConfigs.config })
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.organizationId, organizationId),
        eq(integrationConfigs.integrationType, 'email'),
        eq(integrationConfigs.isActive, true),
      ),
    )
    .orderBy(asc(integrationConfigs.createdAt), asc(integrationConfigs.id));
  for (const row of rows) {
    let config: EmailConfig;
    try {
      config = readEmailConfig(row.config);
    } catch {
      continue; // a row an older version wrote that no longer reads: not one to send from
    }
    if (config.smtp) return { integrationId: row.id, name: row.name, config };
  }
  return null;
}

type Mail = { key: string; subject: string; text: string; html: string };

/** An absolute http(s) URL, or null: a link in a notification is ours, but is checked like any other. */
function httpUrl(url: string | null): string | null {
  if (!url) return null;
  const parsed = URL.parse(url);
  return parsed && (parsed.protocol === 'https:' || parsed.protocol === 'http:') ? parsed.href : null;
}

/** The "Acknowledge" link of a critical alert, for a member only: the token names them as who acknowledged. */
function ackLink(deps: ChannelDeps, notification: OutgoingNotification, item: NotificationItem): string | null {
  if (!item.alertId || notification.recipient.kind !== 'user') return null;
  return alertAckUrl(
    deps.publicUrl,
    deps.config.authSecret,
    notification.organizationId,
    item.alertId,
    notification.recipient.userId,
  );
}

/** Header fields cannot hold line breaks; a title is one line anyway. */
function oneLine(text: string, max = 200): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function itemParts(deps: ChannelDeps, notification: OutgoingNotification, item: NotificationItem) {
  const link = httpUrl(item.link);
  const ack = ackLink(deps, notification, item);
  const critical = item.severity === 'critical';
  const text = [
    `${critical ? '[Critical] ' : ''}${item.title}`,
    ...(item.body ? ['', item.body] : []),
    ...(link ? ['', `Open: ${link}`] : []),
    ...(ack ? [`Acknowledge: ${ack}`] : []),
  ].join('\n');
  const button = (href: string, label: string, color: string) =>
    `<a href="${escapeHtml(href)}" style="display:inline-block;padding:8px 14px;margin:8px 8px 0 0;border-radius:4px;background:${color};color:#ffffff;text-decoration:none;font-weight:600;">${escapeHtml(label)}</a>`;
  const html = [
    `<div style="margin:0 0 20px 0;">`,
    `<p style="margin:0 0 6px 0;font-size:16px;font-weight:600;">${critical ? '<span style="color:#b91c1c;">Critical:</span> ' : ''}${escapeHtml(item.title)}</p>`,
    ...(item.body ? [`<p style="margin:0;color:#374151;">${textToHtml(item.body)}</p>`] : []),
    ...(link || ack
      ? [
          `<p style="margin:0;">${link ? button(link, 'Open in Switchboard', '#2563eb') : ''}${ack ? button(ack, 'Acknowledge', '#b91c1c') : ''}</p>`,
        ]
      : []),
    `</div>`,
  ].join('\n');
  return { text, html };
}

function page(inner: string): string {
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>',
    `<body style="margin:0;padding:16px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:14px;color:#111827;">`,
    `<div style="max-width:600px;">${inner}</div>`,
    '<p style="margin-top:24px;color:#6b7280;font-size:12px;">Switchboard notifications. Change what you receive in your notification preferences.</p>',
    '</body></html>',
  ].join('\n');
}

const FOOTER = '\n\n--\nSwitchboard notifications. Change what you receive in your notification preferences.';

function itemMail(deps: ChannelDeps, notification: OutgoingNotification, item: NotificationItem): Mail {
  const { text, html } = itemParts(deps, notification, item);
  return {
    key: `notification-${item.id}`,
    subject: oneLine(`${item.severity === 'critical' ? '[Critical] ' : ''}${item.title}`),
    text: text + FOOTER,
    html: page(html),
  };
}

function digestMail(deps: ChannelDeps, notification: OutgoingNotification, items: NotificationItem[]): Mail {
  const parts = items.map((item) => itemParts(deps, notification, item));
  const count = `${items.length} notification${items.length === 1 ? '' : 's'}`;
  return {
    // The lowest id names the digest: a retry hands over the same items, so the same Message-ID.
    key: `notification-digest-${Math.min(...items.map((i) => i.id))}`,
    subject: oneLine(`Digest: ${count} (latest: ${items.at(-1)!.title})`),
    text: `Your digest: ${count}\n\n${parts.map((p) => p.text).join('\n\n* * *\n\n')}${FOOTER}`,
    html: page(
      `<p style="margin:0 0 16px 0;font-size:18px;font-weight:600;">Your digest: ${escapeHtml(count)}</p>\n${parts.map((p) => p.html).join('\n<hr style="border:none;border-top:1px solid #e5e7eb;">\n')}`,
    ),
  };
}
