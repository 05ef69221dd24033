// API keys for programs: admins create (the key is shown once), list and revoke them.
import { apikey, auditLog } from '@switchboard/database';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import { forbidden, notFound } from '../../common/errors.ts';
import { createApiKey } from '../auth/api-keys.ts';
import type { AuthContext } from '../http/context.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const createBody = z.object({ name: z.string().trim().min(1).max(100) }).strict();

const createdKey = registry.register(
  'CreatedApiKey',
  z.object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    key: z.string().openapi({ description: 'The key itself: shown only in this response.' }),
    createdAt: z.string(),
  }),
);

const keyList = registry.register(
  'ApiKeyList',
  z.object({
    data: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        prefix: z.string(),
        createdAt: z.string(),
        lastUsedAt: z.string().nullable(),
      }),
    ),
  }),
);

/** A leaked key must not be able to mint or revoke keys: key management needs a person behind a session. */
function requirePerson(auth: AuthContext): void {
  if (auth.actor.type !== 'user') throw forbidden('API keys are managed by signed-in users, not with an API key');
}

export function apiKeysRouter({ db }: ApiDeps): Router {
  const router = Router();

  defineRoute(router, {
    method: 'post',
    path: '/api/api-keys',
    summary: 'Create an API key (the key is returned once)',
    tags: ['API keys'],
    minRole: 'admin',
    request: { body: createBody },
    responses: { 201: { description: 'The new key', schema: createdKey } },
    handler: async ({ auth, body, req }) => {
      requirePerson(auth);
      const created = await db.transaction(async (tx) => {
        const key = await createApiKey(tx, {
          organizationId: auth.organizationId,
          userId: auth.userId,
          name: body.name,
        });
        await tx.insert(auditLog).values({
          organizationId: auth.organizationId,
          actorType: auth.actor.type,
          actorId: auth.actor.id,
          action: 'api_key.created',
          entityType: 'api_key',
          entityId: key.id,
          metadata: { name: key.name, prefix: key.prefix },
          requestId: req.id,
        });
        return key;
      });
      return { status: 201, body: { ...created, createdAt: created.createdAt.toISOString() } };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/api-keys',
    summary: "The organisation's API keys that are not revoked",
    tags: ['API keys'],
    minRole: 'admin',
    responses: { 200: { description: 'Keys, newest first (never the key itself)', schema: keyList } },
    handler: async ({ auth }) => {
      const rows = await db
        .select({
          id: apikey.id,
          name: apikey.name,
          prefix: apikey.prefix,
          createdAt: apikey.createdAt,
          lastUsedAt: apikey.lastUsedAt,
        })
        .from(apikey)
        .where(and(eq(apikey.organizationId, auth.organizationId), isNull(apikey.revokedAt)))
        .orderBy(desc(apikey.createdAt), desc(apikey.id));
      return {
        status: 200,
        body: {
          data: rows.map((r) => ({
            ...r,
            createdAt: r.createdAt.toISOString(),
            lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
          })),
        },
      };
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/api/api-keys/{id}',
    summary: 'Revoke an API key',
    tags: ['API keys'],
    minRole: 'admin',
    request: { params: z.object({ id: z.string().min(1).max(100) }).strict() },
    responses: { 204: { description: 'Revoked', schema: null } },
    handler: async ({ auth, params, req }) => {
      requirePerson(auth);
      await db.transaction(async (tx) => {
        const [revoked] = await tx
          .update(apikey)
          .set({ revokedAt: new Date() })
          .where(
            and(eq(apikey.id, params.id), eq(apikey.organizationId, auth.organizationId), isNull(apikey.revokedAt)),
          )
          .returning({ id: apikey.id, name: apikey.name, prefix: apikey.prefix });
        if (!revoked) throw notFound('API key');
        await tx.insert(auditLog).values({
          organizationId: auth.organizationId,
          actorType: auth.actor.type,
          actorId: auth.actor.id,
          action: 'api_key.revoked',
          entityType: 'api_key',
          entityId: revoked.id,
          metadata: { name: revoked.name, prefix: revoked.prefix },
          requestId: req.id,
        });
      });
      return { status: 204 };
    },
  });

  return router;
}
