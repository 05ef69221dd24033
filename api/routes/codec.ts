// Temporal's remote codec protocol, so the Temporal UI (and `temporal` CLI with --codec-endpoint) can show
// encrypted payloads: POST /codec/decode and /codec/encode with { payloads: [{ metadata, data }] } where
// metadata values and data are base64. Decoding reveals ticket content from every organisation sharing
// the namespace, so it is for the deployment's operators only (api/auth/operators.ts), whatever their role in an
// organisation: an organisation's admin must not read another organisation's payloads. The caller signs in with the
// session cookie the UI sends, or an API key (the temporal CLI's --codec-auth).
import type { Payload } from '@temporalio/common';
import cors from 'cors';
import express, { Router } from 'express';
import { z } from 'zod';
import { badRequest } from '../../common/errors.ts';
import { EncryptionCodec } from '../../common/temporal-codec.ts';
import { authenticate, requireTrustedOrigin } from '../auth/authenticate.ts';
import { type Auth, trustedOrigins } from '../auth/better-auth.ts';
import { requireOperator } from '../auth/operators.ts';
import type { ApiDeps } from '../http/deps.ts';
import { requireJsonBody } from '../http/middleware.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const payloads = registry.register(
  'CodecPayloads',
  z.object({
    payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })),
  }),
);
type JsonPayloads = z.infer<typeof payloads>;

function fromJson(body: JsonPayloads): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
  }));
}

function toJson(list: Payload[]): JsonPayloads {
  return {
    payloads: list.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}

export function codecRouter(deps: ApiDeps, auth: Auth): Router {
  const { db, config } = deps;
  const codec = new EncryptionCodec(config.codecKeys);
  const router = Router();
  router.use(
    '/codec',
    cors({
      origin: config.temporal.uiOrigin,
      credentials: true,
      methods: ['POST'],
      allowedHeaders: ['Content-Type', 'X-Namespace', 'Authorization', 'X-Api-Key'],
      maxAge: 600,
    }),
    requireJsonBody,
    authenticate({ db, auth }),
    requireTrustedOrigin([...trustedOrigins(config), new URL(config.temporal.uiOrigin).origin]),
    requireOperator(db, config),
    express.json({ limit: config.bodyLimit }),
    (req, _res, next) => {
      const namespace = req.headers['x-namespace'];
      if (namespace !== undefined && namespace !== config.temporal.namespace)
        return next(badRequest(`this codec serves namespace "${config.temporal.namespace}", not "${namespace}"`));
      next();
    },
  );

  for (const direction of ['decode', 'encode'] as const) {
    defineRoute(router, {
      method: 'post',
      path: `/codec/${direction}`,
      summary: `Temporal remote codec: ${direction} payloads (the deployment's operators only, SWITCHBOARD_OPERATOR_EMAILS)`,
      tags: ['Platform'],
      // Any signed-in caller reaches the handler only through requireOperator above: no organisation role suffices.
      minRole: 'viewer',
      request: { body: payloads },
      responses: { 200: { description: `The ${direction}d payloads`, schema: payloads } },
      handler: async ({ body }) => {
        try {
          const result =
            direction === 'decode' ? await codec.decode(fromJson(body)) : await codec.encode(fromJson(body));
          return { status: 200, body: toJson(result) };
        } catch (error) {
          throw badRequest(
            `could not ${direction} payloads: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      },
    });
  }
  return router;
}
