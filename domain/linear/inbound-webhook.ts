// Linear's webhooks to an installation. Nobody is signed in: the installation id in the URL names the secret, and
// the signature over the raw body (with Linear's timestamp inside it) is the only proof the request came from
// Linear. Nothing but the installation lookup happens before that proof. A verified change is handed to the sync
// workflow of every link of the issue (Signal-With-Start); the workflow applies it, so the answer is quick.

import { externalSyncRecords, integrationConfigs } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { notFound, RequestError } from '../../common/errors.ts';
import { onFirstUse } from '../../common/lazy-module.ts';
import type { LinearWebhookChange } from '../../workflows/linear-contract.ts';
import { allowedTeamIds, linearConfigSchema } from '../integrations/linear-config.ts';
import { type LinearDeps, openCredentials, requireTemporal } from './installation.ts';
import { signalLinkChange } from './signals.ts';

/** The SDK's signature check: loaded by the first delivery (common/lazy-module.ts). */
const loadWebhooks = onFirstUse(() => import('@linear/sdk/webhooks'));

export type InboundWebhookResult = { received: true; links: number };

type Payload = {
  type?: unknown;
  action?: unknown;
  createdAt?: unknown;
  webhookTimestamp?: unknown;
  actor?: { id?: unknown; name?: unknown } | null;
  data?: Record<string, unknown> | null;
};

const unauthorised = (message: string) => new RequestError(401, 'invalid_signature', message);

export async function receiveLinearWebhook(
  deps: Pick<LinearDeps, 'db' | 'keys' | 'temporal' | 'ticketsTaskQueue'>,
  integrationId: string,
  rawBody: Buffer,
  headers: { signature?: string; deliveryId?: string },
): Promise<InboundWebhookResult> {
  const [row] = await deps.db
    .select()
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.integrationType, 'linear')));
  // Unknown, disconnected, or never given a secret: the same answer, so the URL tells an outsider nothing.
  const secret = row?.isActive ? openCredentials(deps.keys, row)?.webhookSecret : undefined;
  if (!row || !secret) throw notFound('Linear installation');

  if (!headers.signature) throw unauthorised('the linear-signature header is missing');
  const { LinearWebhookClient } = await loadWebhooks();
  const verifier = new LinearWebhookClient(secret);
  try {
    verifier.verify(rawBody, headers.signature);
  } catch {
    throw unauthorised('the signature does not match this installation’s webhook secret');
  }
  let timestamp: unknown;
  try {
    timestamp = (JSON.parse(rawBody.toString('utf8')) as Payload).webhookTimestamp;
  } catch {
    throw new RequestError(400, 'bad_request', 'the body is not JSON');
  }
  // The SDK skips the freshness check when no timestamp is given; a replay must not get through that way.
  if (typeof timestamp !== 'number') throw new RequestError(400, 'bad_request', 'webhookTimestamp is missing');
  let payload: Payload;
  try {
    payload = verifier.parseData(rawBody, headers.signature, timestamp) as Payload;
  } catch {
    throw new RequestError(400, 'stale_webhook', 'webhookTimestamp is more than a minute away from now');
  }

  const change = toChange(payload, headers.deliveryId);
  if (!change) return { received: true, links: 0 };
  // A comment on an issue that now sits in a team this installation may not link is not imported (nor queued):
  // the issue's own webhook about the move reaches its links, whose next step pauses them. Once the issue is back
  // in an allowed team (or its team is allowed) and the link is retried, its reconcile imports what it missed.
  if (change.type === 'Comment' && !teamAllowed(row.config, commentTeamId(payload)))
    return { received: true, links: 0 };
  const links = await deps.db
    .select({ linkId: externalSyncRecords.id, ticketId: externalSyncRecords.supportRequestId })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, row.organizationId),
        eq(externalSyncRecords.integrationConfigId, row.id),
        eq(externalSyncRecords.externalId, change.issueId),
      ),
    );
  // An issue nobody linked is answered 200 all the same: anything else and Linear retries it for hours.
  if (links.length === 0) return { received: true, links: 0 };
  const client = requireTemporal(deps);
  for (const link of links)
    await signalLinkChange(
      client,
      deps,
      { organizationId: row.organizationId, integrationId: row.id, issueId: change.issueId, ...link },
      { kind: 'linear-webhook', change },
    );
  return { received: true, links: links.length };
}

/** The team of a comment's issue, as Linear's comment webhooks carry it (`data.issue.teamId`), if they do. */
function commentTeamId(payload: Payload): string | null {
  const issue = payload.data?.issue;
  return issue && typeof issue === 'object' ? str((issue as { teamId?: unknown }).teamId) : null;
}

/** An unknown team, or an installation with no team chosen (links from before teams were checked), passes. */
function teamAllowed(rawConfig: unknown, teamId: string | null): boolean {
  if (!teamId) return true;
  const parsed = linearConfigSchema.safeParse(rawConfig ?? {});
  if (!parsed.success) return true;
  const allowed = allowedTeamIds(parsed.data);
  return allowed.length === 0 || allowed.includes(teamId);
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The change a link workflow understands, or null for what the sync does not follow. */
export function toChange(payload: Payload, deliveryHeader: string | undefined): LinearWebhookChange | null {
  const data = payload.data ?? {};
  const action = payload.action;
  if (action !== 'create' && action !== 'update' && action !== 'remove') return null;
  const actorId = str(payload.actor?.id);
  if (payload.type === 'Issue') {
    // A new issue is linked by a person or a rule, never by its webhook.
    if (action === 'create') return null;
    const issueId = str(data.id);
    if (!issueId) return null;
    const updatedAt = str(data.updatedAt) ?? str(payload.createdAt) ?? new Date().toISOString();
    const deliveryId = str(deliveryHeader) ?? `Issue:${issueId}:${action}:${updatedAt}`;
    return { deliveryId, type: 'Issue', action, issueId, updatedAt, actorId };
  }
  if (payload.type === 'Comment' && action === 'create') {
    const issueId = str(data.issueId);
    const id = str(data.id);
    if (!issueId || !id) return null;
    const user = (data.user ?? null) as { id?: unknown; name?: unknown } | null;
    const createdAt = str(data.createdAt) ?? new Date().toISOString();
    return {
      deliveryId: str(deliveryHeader) ?? `Comment:${id}:create`,
      type: 'Comment',
      action,
      issueId,
      updatedAt: str(data.updatedAt) ?? createdAt,
      actorId,
      comment: {
        id,
        body: typeof data.body === 'string' ? data.body : '',
        authorName: str(user?.name) ?? str(payload.actor?.name) ?? 'Linear user',
        authorId: str(data.userId) ?? str(user?.id) ?? actorId,
        createdAt,
      },
    };
  }
  return null;
}
