// Tickets, their comments and their timeline. Handlers only translate HTTP to the domain functions,
// which own the transactions, events and audit rows.
import { Router } from 'express';
import { z } from 'zod';
import { nestFieldPaths } from '../../domain/field-paths.ts';
import { scopeOf } from '../../domain/scope.ts';
import { addComment, listComments } from '../../domain/tickets/comments.ts';
import { createTicket } from '../../domain/tickets/create-ticket.ts';
import { getTicket } from '../../domain/tickets/get-ticket.ts';
import { listTickets } from '../../domain/tickets/list-tickets.ts';
import {
  addCommentInput,
  commentView,
  createTicketInput,
  listTicketsQuery,
  ticketEventView,
  ticketView,
  timelinePageQuery,
  updateTicketInput,
} from '../../domain/tickets/schemas.ts';
import { listTicketEvents } from '../../domain/tickets/timeline.ts';
import { updateTicket } from '../../domain/tickets/update-ticket.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const Ticket = registry.register('Ticket', ticketView);
const TicketPage = registry.register(
  'TicketPage',
  z.object({ data: z.array(Ticket), nextCursor: z.string().nullable() }),
);
const Comment = registry.register('Comment', commentView);
const CommentPage = registry.register(
  'CommentPage',
  z.object({ data: z.array(Comment), nextCursor: z.string().nullable() }),
);
const TicketEvent = registry.register('TicketEvent', ticketEventView);
const TicketEventPage = registry.register(
  'TicketEventPage',
  z.object({ data: z.array(TicketEvent), nextCursor: z.string().nullable() }),
);
const NewTicket = registry.register('NewTicket', createTicketInput);
const TicketChanges = registry.register('TicketChanges', updateTicketInput);
const NewComment = registry.register('NewComment', addCommentInput);
const ticketParams = z.object({ id: z.uuid() }).strict();

export function ticketsRouter({ db }: Pick<ApiDeps, 'db'>): Router {
  const router = Router();

  defineRoute(router, {
    method: 'post',
    path: '/api/tickets',
    summary: 'Open a ticket',
    tags: ['Tickets'],
    minRole: 'agent',
    request: { body: NewTicket },
    responses: { 201: { description: 'The new ticket, at version 1', schema: Ticket } },
    handler: async ({ auth, req, body }) => ({
      status: 201,
      body: await nestFieldPaths('body', createTicket(db, scopeOf(auth, req.id), body)),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/tickets',
    summary: 'List tickets, newest first',
    tags: ['Tickets'],
    minRole: 'viewer',
    request: { query: listTicketsQuery },
    responses: { 200: { description: 'One page of tickets; pass nextCursor back for the next', schema: TicketPage } },
    handler: async ({ auth, req, query }) => ({
      status: 200,
      body: await nestFieldPaths('query', listTickets(db, scopeOf(auth, req.id), query)),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/tickets/{id}',
    summary: 'A ticket',
    tags: ['Tickets'],
    minRole: 'viewer',
    request: { params: ticketParams },
    responses: { 200: { description: 'The ticket', schema: Ticket } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: await getTicket(db, scopeOf(auth, req.id), params.id),
    }),
  });

  defineRoute(router, {
    method: 'patch',
    path: '/api/tickets/{id}',
    summary: 'Change a ticket (send the version you read; a stale one is a 409)',
    tags: ['Tickets'],
    minRole: 'agent',
    request: { params: ticketParams, body: TicketChanges },
    responses: { 200: { description: 'The ticket after the change', schema: Ticket } },
    handler: async ({ auth, req, params, body }) => ({
      status: 200,
      body: await nestFieldPaths('body', updateTicket(db, scopeOf(auth, req.id), params.id, body)),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/tickets/{id}/comments',
    summary: "A ticket's comments, a page at a time, oldest first (order=desc: newest first)",
    tags: ['Tickets'],
    minRole: 'viewer',
    request: { params: ticketParams, query: timelinePageQuery },
    responses: {
      200: { description: 'One page of comments; pass nextCursor back (same order) for the next', schema: CommentPage },
    },
    handler: async ({ auth, req, params, query }) => ({
      status: 200,
      body: await nestFieldPaths('query', listComments(db, scopeOf(auth, req.id), params.id, query)),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/tickets/{id}/comments',
    summary: 'Comment on a ticket (public by default; internal notes with isPublic false)',
    tags: ['Tickets'],
    minRole: 'agent',
    request: { params: ticketParams, body: NewComment },
    responses: { 201: { description: 'The new comment', schema: Comment } },
    handler: async ({ auth, req, params, body }) => ({
      status: 201,
      body: await nestFieldPaths('body', addComment(db, scopeOf(auth, req.id), params.id, body)),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/tickets/{id}/events',
    summary: "A ticket's timeline: its events, a page at a time, oldest first (order=desc: newest first)",
    tags: ['Tickets'],
    minRole: 'viewer',
    request: { params: ticketParams, query: timelinePageQuery },
    responses: {
      200: {
        description: 'One page of events; pass nextCursor back (same order) for the next',
        schema: TicketEventPage,
      },
    },
    handler: async ({ auth, req, params, query }) => ({
      status: 200,
      body: await nestFieldPaths('query', listTicketEvents(db, scopeOf(auth, req.id), params.id, query)),
    }),
  });

  return router;
}
