// Who am I, and who else is in my organisation (for assignee pickers).
import { member, organization, user } from '@switchboard/database';
import { and, asc, eq } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../common/errors.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const role = z.enum(['admin', 'agent', 'viewer']);

const me = registry.register(
  'Me',
  z.object({
    user: z.object({ id: z.string(), name: z.string(), email: z.string() }),
    organization: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    role,
  }),
);

const memberList = registry.register(
  'MemberList',
  z.object({ data: z.array(z.object({ userId: z.string(), name: z.string(), email: z.string(), role })) }),
);

export function meRouter({ db }: ApiDeps): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/api/me',
    summary: 'The caller, their active organisation and role there',
    tags: ['Account'],
    minRole: 'viewer',
    responses: { 200: { description: 'The caller', schema: me } },
    handler: async ({ auth }) => {
      const [row] = await db
        .select({
          user: { id: user.id, name: user.name, email: user.email },
          organization: { id: organization.id, name: organization.name, slug: organization.slug },
        })
        .from(member)
        .innerJoin(user, eq(user.id, member.userId))
        .innerJoin(organization, eq(organization.id, member.organizationId))
        .where(and(eq(member.userId, auth.userId), eq(member.organizationId, auth.organizationId)));
      if (!row) throw notFound('membership');
      return { status: 200, body: { ...row, role: auth.role } };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/members',
    summary: "Members of the caller's organisation",
    tags: ['Account'],
    minRole: 'viewer',
    responses: { 200: { description: 'Members, by name', schema: memberList } },
    handler: async ({ auth }) => {
      const rows = await db
        .select({ userId: user.id, name: user.name, email: user.email, role: member.role })
        .from(member)
        .innerJoin(user, eq(user.id, member.userId))
        .where(eq(member.organizationId, auth.organizationId))
        .orderBy(asc(user.name), asc(user.id));
      return { status: 200, body: { data: rows } };
    },
  });

  return router;
}
