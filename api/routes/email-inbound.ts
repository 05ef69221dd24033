// The inbound webhook of a mailbox, for providers that POST received mail as raw MIME (Content-Type message/rfc822).
// Mounted before the /api body parser and authentication: the provider authenticates with the mailbox's own secret
// (HTTP Basic, user `switchboard`, or a Bearer token), and the bytes are read as they are, up to the mailbox limit.
// The message goes through the same ingest as IMAP mail, so the same Message-ID posted twice is filed once.
import express, { Router } from 'express';
import { z } from 'zod';
import { ingestRaw } from '../../activities/email/ingest.ts';
import { emailMailboxReaderOf } from '../../activities/email/runtime.ts';
import { RequestError, unauthenticated } from '../../common/errors.ts';
import { mailboxContext, mailboxForInboundSecret } from '../../domain/email/mailboxes.ts';
import { emailSettings } from '../../packages/integrations/email/settings.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

export const EMAIL_INBOUND_PATH = '/api/email/inbound-webhook/{integrationId}';

const InboundReceipt = registry.register(
  'EmailInboundReceipt',
  z.object({
    status: z.enum(['ingested', 'duplicate', 'held']),
    ticketId: z.uuid().nullable(),
  }),
);

/** The secret of Basic (any user name is refused but `switchboard`) or Bearer credentials. */
function secretOf(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!value) return null;
  if (/^bearer$/i.test(scheme!)) return value;
  if (/^basic$/i.test(scheme!)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0 || decoded.slice(0, colon) !== 'switchboard') return null;
    return decoded.slice(colon + 1);
  }
  return null;
}

export function emailInboundRouter(deps: ApiDeps): Router {
  const router = Router();
  const settings = emailSettings.of(deps.config);
  router.use('/api/email/inbound-webhook', express.raw({ type: () => true, limit: settings.maxMessageBytes }));

  defineRoute(router, {
    method: 'post',
    path: EMAIL_INBOUND_PATH,
    summary:
      'Received mail from a provider, as raw MIME (message/rfc822), authenticated with the mailbox’s inbound secret ' +
      '(POST /api/email/integrations/{id}/inbound-secret): HTTP Basic with user `switchboard`, or Bearer. 200 when ' +
      'filed (or already filed: the same Message-ID is filed once), held for review, 401 for a wrong secret, 413 ' +
      'over the size limit, 422 for a message that is not MIME (recorded on the mailbox).',
    tags: ['Email'],
    request: { params: z.object({ integrationId: z.uuid() }).strict() },
    responses: { 200: { description: 'Received', schema: InboundReceipt } },
    handler: async ({ req, params }) => {
      const secret = secretOf(req.headers.authorization);
      const mailbox = secret ? await mailboxForInboundSecret(deps.db, params.integrationId, secret) : null;
      if (!mailbox) throw unauthenticated('wrong or missing inbound secret for this mailbox');
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (raw.length === 0)
        throw new RequestError(400, 'bad_request', 'the body must be the raw message (message/rfc822)');
      const context = await mailboxContext(deps.db, deps.config.credentialKeys, mailbox, 'webhook');
      const result = await ingestRaw(emailMailboxReaderOf(deps), context, raw);
      if (result.status === 'refused') throw new RequestError(422, 'message_refused', result.reason);
      return {
        status: 200,
        body: {
          status: result.status,
          ticketId: 'ticketId' in result ? (result.ticketId ?? null) : null,
        },
      };
    },
  });

  return router;
}
