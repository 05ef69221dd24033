// Who am I: the caller, their active organisation and role there (the members are in members.ts).
import { member, organization, user } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import { memberRoles } from '../../common/enums.ts';
import { notFound } from '../../common/errors.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const role = z.enum(memberRoles);

const me = registry.register(
  'Me',
  z.object({
    user: z.object({ id: z.string(), name: z.string(), email: z.string() }),
    organization: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    role,
  }),
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

  return router;
}
