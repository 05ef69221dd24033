// The organisation's members: everyone may see who is in it (assignee pickers); admins change roles and remove
// members. Joining is through an invitation (api/routes/invitations.ts).
import { Router } from 'express';
import { z } from 'zod';
import { forbidden } from '../../common/errors.ts';
import { changeMemberRole, listMembers, memberRoles, removeMember } from '../../domain/members/members.ts';
import { scopeOf } from '../../domain/scope.ts';
import type { AuthContext } from '../http/context.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { errorResponse, registry } from '../openapi/registry.ts';

export const roleSchema = z.enum(memberRoles);

export const memberSchema = registry.register(
  'Member',
  z.object({
    userId: z.string(),
    name: z.string(),
    email: z.string(),
    role: roleSchema,
    joinedAt: z.string().openapi({ description: 'When they became a member' }),
  }),
);

const memberList = registry.register('MemberList', z.object({ data: z.array(memberSchema) }));

const memberParams = z.object({ userId: z.string().min(1).max(100) }).strict();

const lastAdmin = {
  description:
    'Refused: the member is the organisation’s only admin (code last_admin). Make another member an admin first.',
  schema: errorResponse,
};

/**
 * Membership is who may act in the organisation: a leaked API key must not be able to invite its way in, promote
 * anyone or lock the admins out, so these changes need a person behind a session (like API key management).
 */
export function requirePerson(auth: AuthContext): void {
  if (auth.actor.type !== 'user')
    throw forbidden('members and invitations are managed by signed-in admins, not with an API key');
}

export function membersRouter({ db }: ApiDeps): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/api/members',
    summary: "Members of the caller's organisation",
    tags: ['Members'],
    minRole: 'viewer',
    responses: { 200: { description: 'Members, by name', schema: memberList } },
    handler: async ({ auth }) => ({ status: 200, body: { data: await listMembers(db, scopeOf(auth)) } }),
  });

  defineRoute(router, {
    method: 'patch',
    path: '/api/members/{userId}',
    summary: "Change a member's role",
    tags: ['Members'],
    minRole: 'admin',
    request: { params: memberParams, body: z.object({ role: roleSchema }).strict() },
    responses: {
      200: {
        description: 'The member with the new role (unchanged when it was already that role)',
        schema: memberSchema,
      },
      409: lastAdmin,
    },
    handler: async ({ auth, params, body, req }) => {
      requirePerson(auth);
      return { status: 200, body: await changeMemberRole(db, scopeOf(auth, req.id), params.userId, body.role) };
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/api/members/{userId}',
    summary: 'Remove a member from the organisation (their API keys here are revoked; the account stays)',
    tags: ['Members'],
    minRole: 'admin',
    request: { params: memberParams },
    responses: { 204: { description: 'Removed', schema: null }, 409: lastAdmin },
    handler: async ({ auth, params, req }) => {
      requirePerson(auth);
      await removeMember(db, scopeOf(auth, req.id), params.userId);
      return { status: 204 };
    },
  });

  return router;
}
