// A ticket's Linear issues: any member reads them, agents create, link, unlink and retry.
import { Router } from 'express';
import { z } from 'zod';
import { nestFieldPaths } from '../../domain/field-paths.ts';
import { createLink, listLinks, retryLink, syncLinkNow, unlink } from '../../domain/linear/links.ts';
import {
  linearConflictView,
  linearLinkList,
  linearLinkPending,
  linearLinkView,
  newLinearLinkInput,
} from '../../domain/linear/schemas.ts';
import { scopeOf } from '../../domain/scope.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';
import { linearDepsOf } from './linear.ts';

registry.register('LinearConflict', linearConflictView);
const LinearLink = registry.register('LinearLink', linearLinkView);
const LinearLinkList = registry.register('LinearLinkList', linearLinkList);
const LinearLinkPending = registry.register('LinearLinkPending', linearLinkPending);
const NewLinearLink = registry.register('NewLinearLink', newLinearLinkInput);

const ticketParams = z.object({ id: z.uuid() }).strict();
const linkParams = z.object({ id: z.uuid(), linkId: z.uuid() }).strict();
const emptyBody = z.object({}).strict();

export function linearLinksRouter(apiDeps: ApiDeps): Router {
  const router = Router();
  const deps = linearDepsOf(apiDeps);

  defineRoute(router, {
    method: 'get',
    path: '/api/tickets/{id}/linear-links',
    summary: 'The ticket’s Linear issues with their sync status and latest conflicts',
    tags: ['Linear'],
    minRole: 'viewer',
    request: { params: ticketParams },
    responses: { 200: { description: 'Links, oldest first', schema: LinearLinkList } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: { data: await listLinks(deps, scopeOf(auth, req.id), params.id) },
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/tickets/{id}/linear-links',
    summary:
      'Create a Linear issue from the ticket (action create; the same idempotencyKey never creates a second one) or ' +
      'link an existing one by identifier or URL (action link). integrationId may be left out when one Linear ' +
      'installation is connected. Answers 201 with the link, or 202 when Linear has not answered within a few ' +
      'seconds (the request goes on; the link appears in the list). 404: the issue does not exist; 409: Linear is ' +
      'not connected or the token was revoked.',
    tags: ['Linear'],
    minRole: 'agent',
    request: { params: ticketParams, body: NewLinearLink },
    responses: {
      201: { description: 'The link', schema: LinearLink },
      202: { description: 'Still running', schema: LinearLinkPending },
    },
    handler: async ({ auth, req, params, body }) => {
      const outcome = await nestFieldPaths('body', createLink(deps, scopeOf(auth, req.id), params.id, body));
      return outcome.status === 201 ? { status: 201, body: outcome.link } : { status: 202, body: outcome.pending };
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/api/tickets/{id}/linear-links/{linkId}',
    summary: 'Unlink an issue: the link and its sync state go, the issue stays in Linear',
    tags: ['Linear'],
    minRole: 'agent',
    request: { params: linkParams },
    responses: { 204: { description: 'Unlinked', schema: null } },
    handler: async ({ auth, req, params }) => {
      await unlink(deps, scopeOf(auth, req.id), params.id, params.linkId);
      return { status: 204 };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/tickets/{id}/linear-links/{linkId}/retry',
    summary: 'Resume a failed link (after fixing its cause): its queued changes are applied. 409 unless it failed.',
    tags: ['Linear'],
    minRole: 'agent',
    request: { params: linkParams, body: emptyBody },
    responses: { 202: { description: 'Resuming; the link as it is now', schema: LinearLink } },
    handler: async ({ auth, req, params }) => ({
      status: 202,
      body: await retryLink(deps, scopeOf(auth, req.id), params.id, params.linkId),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/tickets/{id}/linear-links/{linkId}/sync',
    summary:
      'Sync now: the link compares both sides at once (as at its periodic reconcile) instead of at its next tick. ' +
      '409 for a failed link (retry it instead).',
    tags: ['Linear'],
    minRole: 'agent',
    request: { params: linkParams, body: emptyBody },
    responses: { 202: { description: 'Reconciling; the link as it is now', schema: LinearLink } },
    handler: async ({ auth, req, params }) => ({
      status: 202,
      body: await syncLinkNow(deps, scopeOf(auth, req.id), params.id, params.linkId),
    }),
  });

  return router;
}
