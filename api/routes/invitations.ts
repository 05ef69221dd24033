// Invitations: admins create (the link is shown once), list and revoke them; the invitee previews and accepts
// with the token from the link. Preview and accept are public routes: the token is the credential, and it travels
// in the body (the link keeps it in the URL fragment), never in a path or query string that logs would keep.
import { randomUUID } from 'node:crypto';
import { fromNodeHeaders } from 'better-auth/node';
import express, { Router } from 'express';
import { z } from 'zod';
import {
  type Acceptor,
  acceptInvitation,
  createInvitation,
  DEFAULT_INVITATION_DAYS,
  INVITATION_TOKEN_PATTERN,
  listInvitations,
  MAX_INVITATION_DAYS,
  previewInvitation,
  revokeInvitation,
} from '../../domain/members/invitations.ts';
import { scopeOf } from '../../domain/scope.ts';
import { assertTrustedOrigin } from '../auth/authenticate.ts';
import { type Auth, CLIENT_ADDRESS_HEADER, PASSWORD_LENGTH, trustedOrigins } from '../auth/better-auth.ts';
import type { ApiDeps } from '../http/deps.ts';
import { requireJsonBody } from '../http/middleware.ts';
import { defineRoute } from '../http/route.ts';
import { errorResponse, registry } from '../openapi/registry.ts';
import { requirePerson, roleSchema } from './members.ts';

const invitationSchema = registry.register(
  'Invitation',
  z.object({
    id: z.string(),
    email: z.string(),
    role: roleSchema,
    status: z.enum(['pending', 'expired']).openapi({
      description: 'expired: unanswered and past expiresAt; the link no longer works, the row can be revoked',
    }),
    expiresAt: z.string(),
    createdAt: z.string(),
    invitedBy: z.object({ userId: z.string(), name: z.string() }).nullable(),
  }),
);

const createdInvitation = registry.register(
  'CreatedInvitation',
  invitationSchema.extend({
    token: z.string().openapi({ description: 'The invitation token: shown only in this response.' }),
    url: z.string().openapi({
      description:
        'The link to give the invitee (<PUBLIC_URL>/join#<token>). Switchboard sends no email yet: the admin ' +
        'passes it on. Shown only in this response.',
    }),
  }),
);

const invitationList = registry.register('InvitationList', z.object({ data: z.array(invitationSchema) }));

const invitationPreview = registry.register(
  'InvitationPreview',
  z.object({
    organization: z.object({ name: z.string() }),
    email: z.string(),
    role: roleSchema,
    expiresAt: z.string(),
    invitedBy: z.string().nullable(),
    accountExists: z
      .boolean()
      .openapi({ description: 'true: sign in as this address, then accept; false: accept with a name and password' }),
  }),
);

const joined = registry.register(
  'JoinedOrganization',
  z.object({
    organizationId: z.string(),
    userId: z.string(),
    email: z.string(),
    role: roleSchema,
    newAccount: z.boolean(),
  }),
);

const createBody = z
  .object({
    email: z.email().max(320),
    role: roleSchema,
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_INVITATION_DAYS)
      .optional()
      .openapi({ description: `Days until the link stops working (default ${DEFAULT_INVITATION_DAYS})` }),
  })
  .strict();

const token = z
  .string()
  .regex(INVITATION_TOKEN_PATTERN, 'not an invitation token (copy the whole link)')
  .openapi({ description: 'The token from the invitation link (after #)' });

const acceptBody = z
  .object({
    token,
    name: z.string().trim().min(1).max(100).optional().openapi({ description: 'For a new account' }),
    password: z
      .string()
      .min(PASSWORD_LENGTH.min)
      .max(PASSWORD_LENGTH.max)
      .optional()
      .openapi({ description: 'For a new account' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    // Both or neither: half an account is a mistake worth naming, not a reason to fall back to the session.
    if (body.password !== undefined && body.name === undefined)
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'required with password (the new account’s name)' });
    if (body.name !== undefined && body.password === undefined)
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'required with name (the new account’s password)' });
  });

const gone = {
  description:
    'The invitation was used (invitation_used), revoked (invitation_revoked) or has expired (invitation_expired)',
  schema: errorResponse,
};

/** Admin routes, behind the /api authentication. */
export function invitationsRouter({ db, config }: ApiDeps): Router {
  const router = Router();

  defineRoute(router, {
    method: 'post',
    path: '/api/invitations',
    summary: 'Invite someone by email with a role (the link is returned once)',
    tags: ['Members'],
    minRole: 'admin',
    request: { body: createBody },
    responses: {
      201: { description: 'The invitation, its token and link', schema: createdInvitation },
      409: {
        description: 'The address is already a member (already_member) or has a pending invitation (already_invited)',
        schema: errorResponse,
      },
    },
    handler: async ({ auth, body, req }) => {
      requirePerson(auth);
      const created = await createInvitation(db, scopeOf(auth, req.id), body);
      const url = `${new URL('/join', config.publicUrl).toString()}#${created.token}`;
      return { status: 201, body: { ...created.invitation, token: created.token, url } };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/invitations',
    summary: 'Invitations not yet answered (pending or expired), newest first; never their tokens',
    tags: ['Members'],
    minRole: 'admin',
    responses: { 200: { description: 'Invitations', schema: invitationList } },
    handler: async ({ auth }) => ({ status: 200, body: { data: await listInvitations(db, scopeOf(auth)) } }),
  });

  defineRoute(router, {
    method: 'delete',
    path: '/api/invitations/{id}',
    summary: 'Revoke an invitation (its link stops working at once)',
    tags: ['Members'],
    minRole: 'admin',
    request: { params: z.object({ id: z.string().min(1).max(100) }).strict() },
    responses: {
      204: { description: 'Revoked', schema: null },
      409: { description: 'Already accepted or already revoked', schema: errorResponse },
    },
    handler: async ({ auth, params, req }) => {
      requirePerson(auth);
      await revokeInvitation(db, scopeOf(auth, req.id), params.id);
      return { status: 204 };
    },
  });

  return router;
}

const PUBLIC_PATHS = ['/api/invitations/preview', '/api/invitations/accept'];

/** The invitee's routes: public (no /api authentication), mounted before it. */
export function invitationAcceptanceRouter({ db, config }: ApiDeps, auth: Auth): Router {
  const router = Router();
  router.use(PUBLIC_PATHS, requireJsonBody, express.json({ limit: config.bodyLimit }));

  defineRoute(router, {
    method: 'post',
    path: '/api/invitations/preview',
    summary: 'What an invitation offers: the organisation, the address, the role, and whether it has an account',
    tags: ['Members'],
    request: { body: z.object({ token }).strict() },
    responses: { 200: { description: 'The invitation', schema: invitationPreview }, 410: gone },
    handler: async ({ body }) => ({ status: 200, body: await previewInvitation(db, body.token) }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/invitations/accept',
    summary:
      'Accept an invitation: with name and password for an address without an account (creates it and signs in), ' +
      'or signed in as the invited address (session cookie) with the token alone',
    tags: ['Members'],
    request: { body: acceptBody },
    responses: {
      201: { description: 'Joined; a new account also gets its session cookie', schema: joined },
      401: { description: 'The address has an account: sign in as it first', schema: errorResponse },
      403: { description: 'Signed in as another address (wrong_account)', schema: errorResponse },
      409: {
        description: 'The address already has an account (account_exists) or is already a member (already_member)',
        schema: errorResponse,
      },
      410: gone,
    },
    handler: async ({ body, req, res }) => {
      // The token first: nobody gets a password hashed (slow on purpose) for a link that does not work.
      const preview = await previewInvitation(db, body.token);
      const headers = fromNodeHeaders(req.headers);
      headers.set(CLIENT_ADDRESS_HEADER, req.ip ?? req.socket.remoteAddress ?? 'unknown');
      let acceptor: Acceptor = { kind: 'anonymous' };
      if (body.password !== undefined && body.name !== undefined) {
        const context = await auth.$context;
        acceptor = {
          kind: 'new-account',
          name: body.name,
          passwordHash: await context.password.hash(body.password),
          userId: context.generateId({ model: 'user' }) || randomUUID(),
          accountId: context.generateId({ model: 'account' }) || randomUUID(),
        };
      } else if (preview.accountExists) {
        const session = await auth.api.getSession({ headers });
        if (session) {
          assertTrustedOrigin(req, trustedOrigins(config));
          acceptor = { kind: 'signed-in', userId: session.user.id, email: session.user.email };
        }
      }
      const accepted = await acceptInvitation(db, body.token, acceptor, req.id);

      // Land the person in the organisation they just joined.
      const signedIn =
        acceptor.kind === 'new-account' && body.password !== undefined
          ? await auth.api.signInEmail({
              body: { email: accepted.email, password: body.password },
              headers,
              returnHeaders: true,
            })
          : await auth.api.setActiveOrganization({
              body: { organizationId: accepted.organizationId },
              headers,
              returnHeaders: true,
            });
      for (const cookie of signedIn.headers.getSetCookie()) res.append('set-cookie', cookie);
      return { status: 201, body: accepted };
    },
  });

  return router;
}
