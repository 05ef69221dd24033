// Email for members: a ticket's thread (any member reads it), the composer's send and preview (agents), the held and
// refused mail of the mailboxes (agents review, release or discard), a mailbox's inbound webhook secret and the
// connection test of the setup form (admins).
import { Router } from 'express';
import { z } from 'zod';
import { mailConnectionTestInput, testMailConnection } from '../../activities/email/connection-test.ts';
import { releaseHeld } from '../../activities/email/ingest.ts';
import { emailMailboxReaderOf } from '../../activities/email/runtime.ts';
import { recordAudit } from '../../domain/audit.ts';
import { loadMailbox, mailboxContext, rotateInboundSecret } from '../../domain/email/mailboxes.ts';
import {
  composeEmail,
  composeEmailInput,
  discardHeld,
  emailView,
  findInbound,
  inboundQuery,
  inboundView,
  listInbound,
  listTicketEmails,
  previewEmail,
  toInboundView,
} from '../../domain/email/thread.ts';
import { nestFieldPaths } from '../../domain/field-paths.ts';
import { scopeOf } from '../../domain/scope.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';
import { EMAIL_INBOUND_PATH } from './email-inbound.ts';

const Email = registry.register('Email', emailView);
const EmailList = registry.register('EmailList', z.object({ data: z.array(emailView) }));
const ComposeEmail = registry.register('ComposeEmail', composeEmailInput);
const InboundEmail = registry.register('InboundEmail', inboundView);
const InboundEmailList = registry.register('InboundEmailList', z.object({ data: z.array(inboundView) }));
const EmailPreview = registry.register(
  'EmailPreview',
  z.object({
    from: z.string(),
    to: z.array(z.string()),
    cc: z.array(z.string()),
    subject: z.string(),
    html: z.string(),
    text: z.string(),
  }),
);
const MailConnectionTest = registry.register('MailConnectionTest', mailConnectionTestInput);
const MailConnectionResult = registry.register(
  'MailConnectionResult',
  z.object({
    imap: z.object({ ok: z.boolean(), error: z.string().nullable(), idle: z.boolean().nullable() }).nullable(),
    smtp: z.object({ ok: z.boolean(), error: z.string().nullable() }).nullable(),
  }),
);
const InboundSecret = registry.register(
  'EmailInboundSecret',
  z.object({
    secret: z.string().describe('Shown once: the password of HTTP Basic (user `switchboard`) or a Bearer token'),
    url: z.string().describe('Where the provider posts raw MIME (Content-Type message/rfc822)'),
  }),
);
const ReleaseResult = registry.register(
  'EmailReleaseResult',
  z.object({ status: z.string(), ticketId: z.uuid().nullable(), inbound: inboundView }),
);

const ticketParams = z.object({ id: z.uuid() }).strict();
const inboundParams = z.object({ id: z.uuid() }).strict();
const emptyBody = z.object({}).strict();

export function emailRouter(deps: ApiDeps): Router {
  const router = Router();
  const { db } = deps;

  defineRoute(router, {
    method: 'get',
    path: '/api/tickets/{id}/emails',
    summary:
      'The ticket’s email thread, oldest first: direction, authentication verdicts (DKIM, SPF, DMARC), attachments ' +
      'and refused attachments, and for outbound mail its state (queued, sent, failed with the server’s words)',
    tags: ['Email'],
    minRole: 'viewer',
    request: { params: ticketParams },
    responses: { 200: { description: 'Emails', schema: EmailList } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: { data: await listTicketEmails(db, scopeOf(auth, req.id), params.id) },
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/tickets/{id}/emails',
    summary:
      'Send an email from the ticket: it becomes a public comment and is queued; the ticket’s thread workflow sends ' +
      'it with the thread’s headers (In-Reply-To, References, the reply-token Reply-To, [#n] in the subject). 202 ' +
      'with the queued email; the same idempotencyKey answers the first send again. 409 when no mailbox sends.',
    tags: ['Email'],
    minRole: 'agent',
    request: { params: ticketParams, body: ComposeEmail },
    responses: { 202: { description: 'Queued', schema: Email } },
    handler: async ({ auth, req, params, body }) => ({
      status: 202,
      body: await nestFieldPaths('body', composeEmail(db, scopeOf(auth, req.id), params.id, body)),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/tickets/{id}/emails/preview',
    summary: 'How the composer’s email would look (the mailbox’s template and branding), without sending it',
    tags: ['Email'],
    minRole: 'agent',
    request: { params: ticketParams, body: ComposeEmail },
    responses: { 200: { description: 'The rendered email', schema: EmailPreview } },
    handler: async ({ auth, req, params, body }) => ({
      status: 200,
      body: await nestFieldPaths('body', previewEmail(db, scopeOf(auth, req.id), params.id, body)),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/email/inbound',
    summary:
      'Mail the mailboxes did not file: held for review (failed DMARC under the hold policy) or refused (malformed, ' +
      'too large), newest first',
    tags: ['Email'],
    minRole: 'agent',
    request: { query: inboundQuery },
    responses: { 200: { description: 'Inbound mail', schema: InboundEmailList } },
    handler: async ({ auth, req, query }) => ({
      status: 200,
      body: { data: await listInbound(db, scopeOf(auth, req.id), query) },
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/email/inbound/{id}/release',
    summary: 'File a held message after all (it opens or joins its ticket as if it had passed); 409 unless held',
    tags: ['Email'],
    minRole: 'agent',
    request: { params: inboundParams, body: emptyBody },
    responses: { 200: { description: 'Filed', schema: ReleaseResult } },
    handler: async ({ auth, req, params }) => {
      const scope = scopeOf(auth, req.id);
      const held = await findInbound(db, scope, params.id);
      const mailbox = await loadMailbox(db, scope.organizationId, held.integrationId);
      const runtime = emailMailboxReaderOf(deps);
      const context = await mailboxContext(
        db,
        deps.config.credentialKeys,
        mailbox,
        held.via === 'imap' ? 'imap' : 'webhook',
      );
      const result = await releaseHeld(runtime, context, params.id, scope.userId);
      await recordAudit(db, scope, {
        action: 'email.released',
        entityType: 'integration',
        entityId: held.integrationId,
        metadata: { inboundId: params.id, messageId: held.messageId },
      });
      return {
        status: 200,
        body: {
          status: result.status,
          ticketId: 'ticketId' in result ? (result.ticketId ?? null) : null,
          inbound: toInboundView(await findInbound(db, scope, params.id)),
        },
      };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/email/inbound/{id}/discard',
    summary: 'Drop a held message for good (its sealed copy is erased); 409 unless held',
    tags: ['Email'],
    minRole: 'agent',
    request: { params: inboundParams, body: emptyBody },
    responses: { 200: { description: 'Discarded', schema: InboundEmail } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: await discardHeld(db, scopeOf(auth, req.id), params.id),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/email/integrations/{id}/inbound-secret',
    summary:
      'A new secret for the mailbox’s inbound webhook (the previous one stops working), shown once, with the URL a ' +
      'provider posts raw MIME to',
    tags: ['Email'],
    minRole: 'admin',
    request: { params: ticketParams, body: emptyBody },
    responses: { 201: { description: 'The secret', schema: InboundSecret } },
    handler: async ({ auth, req, params }) => {
      const scope = scopeOf(auth, req.id);
      const secret = await rotateInboundSecret(db, deps.config.credentialKeys, scope, params.id);
      await recordAudit(db, scope, {
        action: 'email.inbound_secret_rotated',
        entityType: 'integration',
        entityId: params.id,
        metadata: {},
      });
      return {
        status: 201,
        body: {
          secret,
          url: new URL(EMAIL_INBOUND_PATH.replace('{integrationId}', params.id), deps.config.publicUrl).toString(),
        },
      };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/email/connection-test',
    summary:
      'Try IMAP and SMTP settings before saving them: log in (and open the mailbox), greet and authenticate, and say ' +
      'in plain words what went wrong (wrong password, TLS mismatch, host not found). Saved passwords are used when ' +
      'integrationId names the mailbox and a password is left out.',
    tags: ['Email'],
    minRole: 'admin',
    request: { body: MailConnectionTest },
    responses: { 200: { description: 'What worked', schema: MailConnectionResult } },
    handler: async ({ auth, req, body }) => ({
      status: 200,
      body: await testMailConnection(deps, scopeOf(auth, req.id), body),
    }),
  });

  return router;
}
