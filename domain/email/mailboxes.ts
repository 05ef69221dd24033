// A mailbox (an integration of type `email`) as the email code uses it: its config, and its generated secrets. The
// reply-token key is made the first time it is needed and sealed like credentials (bound to its row); the inbound
// webhook's secret is shown once when an admin generates it and only its SHA-256 is kept.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Database, emailMailboxes, integrationConfigs } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { openJson, sealJson } from '../../common/crypto/envelope.ts';
import { notFound } from '../../common/errors.ts';
import type { Scope } from '../scope.ts';
import { type EmailConfig, readEmailConfig } from './config.ts';
import type { MailboxContext } from './ingest.ts';

export const replyKeyContext = (organizationId: string, integrationId: string) =>
  `email_mailboxes/${organizationId}/${integrationId}/reply_token_key`;
/** The AAD of a held message's sealed copy: bound to its ledger row. */
export const heldMessageContext = (organizationId: string, inboundId: string) =>
  `email_inbound/${organizationId}/${inboundId}`;

export type Mailbox = {
  organizationId: string;
  integrationId: string;
  name: string;
  isActive: boolean;
  config: EmailConfig;
};

/** The organisation's email integration, or a 404 (another organisation's, another type, or none). */
export async function loadMailbox(db: Database, organizationId: string, integrationId: string): Promise<Mailbox> {
  const [row] = await db
    .select({
      id: integrationConfigs.id,
      name: integrationConfigs.name,
      isActive: integrationConfigs.isActive,
      config: integrationConfigs.config,
    })
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.id, integrationId),
        eq(integrationConfigs.organizationId, organizationId),
        eq(integrationConfigs.integrationType, 'email'),
      ),
    );
  if (!row) throw notFound('email integration');
  return {
    organizationId,
    integrationId: row.id,
    name: row.name,
    isActive: row.isActive,
    config: readEmailConfig(row.config),
  };
}

/** The mailbox's reply-token key, made (once, whoever asks first) when it has none yet. */
export async function replyTokenKey(db: Database, keys: KeyRing, mailbox: Mailbox): Promise<Buffer> {
  const context = replyKeyContext(mailbox.organizationId, mailbox.integrationId);
  await db
    .insert(emailMailboxes)
    .values({
      integrationId: mailbox.integrationId,
      organizationId: mailbox.organizationId,
      replyTokenKey: sealJson(keys, { key: randomBytes(32).toString('base64') }, context),
    })
    .onConflictDoNothing();
  const [row] = await db
    .select({ sealed: emailMailboxes.replyTokenKey })
    .from(emailMailboxes)
    .where(eq(emailMailboxes.integrationId, mailbox.integrationId));
  const { key } = openJson(keys, row!.sealed, context) as { key: string };
  return Buffer.from(key, 'base64');
}

/** What ingest needs of a mailbox. */
export async function mailboxContext(
  db: Database,
  keys: KeyRing,
  mailbox: Mailbox,
  via: MailboxContext['via'],
): Promise<MailboxContext> {
  return {
    organizationId: mailbox.organizationId,
    integrationId: mailbox.integrationId,
    config: mailbox.config,
    replyTokenKey: await replyTokenKey(db, keys, mailbox),
    via,
  };
}

/** A new inbound webhook secret for the mailbox (the old one stops working); returned once, kept as a hash. */
export async function rotateInboundSecret(
  db: Database,
  keys: KeyRing,
  scope: Scope,
  integrationId: string,
): Promise<string> {
  const mailbox = await loadMailbox(db, scope.organizationId, integrationId);
  await replyTokenKey(db, keys, mailbox);
  const secret = `whin_${randomBytes(24).toString('base64url')}`;
  await db
    .update(emailMailboxes)
    .set({ inboundSecretSha256: sha256(secret) })
    .where(eq(emailMailboxes.integrationId, integrationId));
  return secret;
}

/**
 * The mailbox an inbound webhook request is for, when its secret is right; null otherwise (a wrong secret and an
 * unknown mailbox look the same to the caller).
 */
export async function mailboxForInboundSecret(
  db: Database,
  integrationId: string,
  secret: string,
): Promise<Mailbox | null> {
  const [row] = await db
    .select({ organizationId: emailMailboxes.organizationId, hash: emailMailboxes.inboundSecretSha256 })
    .from(emailMailboxes)
    .where(eq(emailMailboxes.integrationId, integrationId));
  if (!row?.hash) return null;
  const given = Buffer.from(sha256(secret), 'hex');
  const stored = Buffer.from(row.hash, 'hex');
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return null;
  const mailbox = await loadMailbox(db, row.organizationId, integrationId).catch(() => null);
  return mailbox?.isActive ? mailbox : null;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
