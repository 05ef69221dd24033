// Notifications over HTTP: the rules (admins write, everyone reads), the editor's preview, each member's
// preferences, in-app centre and fatigue view, acknowledging a critical alert, and the centre's live stream.
//
// Live updates are server-sent events, not polling (specification/decisions.md): one LISTEN connection per API
// process hears `pg_notify('notifications', '<org>:<user>')` from the sender, and each open stream of that member
// gets the new unread count; the page then reloads its list. No notification text goes through the channel.
import type { Database } from '@switchboard/database';
import { Router } from 'express';
import type pg from 'pg';
import { NOTIFY_CHANNEL } from '../../activities/notifications/notify-channel.ts';
import type { Logger } from '../../common/logger.ts';
import { acknowledgeAlert } from '../../domain/notifications/alerts.ts';
import {
  getPreferences,
  listHeldBack,
  listInbox,
  markRead,
  previewNotifications,
  updatePreferences,
} from '../../domain/notifications/inbox.ts';
import { createRule, deleteRule, getRule, listRules, updateRule } from '../../domain/notifications/rules.ts';
import {
  createRuleInput,
  notificationView,
  preferencesInput,
  preferencesView,
  previewInput,
  previewView,
  ruleView,
  updateRuleInput,
} from '../../domain/notifications/schemas.ts';
import { scopeOf } from '../../domain/scope.ts';
import { z } from '../../domain/zod.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const NotificationRule = registry.register('NotificationRule', ruleView);
const NotificationRuleList = registry.register('NotificationRuleList', z.object({ data: z.array(NotificationRule) }));
const NotificationRuleInput = registry.register('NotificationRuleInput', createRuleInput);
const NotificationRulePatch = registry.register('NotificationRulePatch', updateRuleInput);
const NotificationPreferences = registry.register('NotificationPreferences', preferencesView);
const NotificationPreferencesInput = registry.register('NotificationPreferencesInput', preferencesInput);
const Notification = registry.register('Notification', notificationView);
const NotificationInbox = registry.register(
  'NotificationInbox',
  z.object({ data: z.array(Notification), unread: z.number().int() }),
);
const NotificationHeldBack = registry.register('NotificationHeldBack', z.object({ data: z.array(Notification) }));
const NotificationPreviewInput = registry.register('NotificationPreviewInput', previewInput);
const NotificationPreview = registry.register('NotificationPreview', previewView);
const MarkReadInput = registry.register(
  'NotificationMarkReadInput',
  z
    .object({ ids: z.array(z.number().int().positive()).min(1).max(500).optional(), all: z.literal(true).optional() })
    .strict()
    .refine((b) => (b.ids ? !b.all : b.all), 'give either ids or all: true'),
);
const UnreadCount = registry.register('NotificationUnread', z.object({ unread: z.number().int() }));
const AlertAcknowledgement = registry.register(
  'AlertAcknowledgement',
  z.object({
    alertId: z.uuid(),
    acknowledgedNow: z.boolean(),
    acknowledgedAt: z.string(),
    acknowledgedBy: z.string().nullable(),
    escalated: z.boolean(),
  }),
);

const idParams = z.object({ id: z.uuid() }).strict();
const pageQuery = z.object({ before: z.coerce.number().int().positive().optional() }).strict();

/** Members' open streams by `<org>:<user>`, fed by one LISTEN connection. */
class UnreadStreams {
  private readonly streams = new Map<string, Set<(unread: number) => void>>();
  private client: Promise<pg.PoolClient> | null = null;

  private readonly db: Database;
  private readonly logger: Logger;
  constructor(db: Database, logger: Logger) {
    this.db = db;
    this.logger = logger;
  }

  private listen(): Promise<pg.PoolClient> {
    this.client ??= (async () => {
      const client = await (this.db.$client as pg.Pool).connect();
      client.on('notification', (message) => {
        const key = message.payload ?? '';
        const listeners = this.streams.get(key);
        if (!listeners?.size) return;
        const [organizationId, userId] = key.split(':');
        void this.unreadOf(organizationId!, userId!)
          .then((n) => {
            for (const send of listeners) send(n);
          })
          .catch((error: unknown) =>
            this.logger.warn({ err: (error as Error).message }, 'unread count for a notification stream failed'),
          );
      });
      client.on('error', (error) => {
        // Open streams end, and browsers reconnect (EventSource does), which listens again.
        this.logger.warn({ err: error.message }, 'notification stream connection lost');
        this.client = null;
        client.release(error);
        for (const set of this.streams.values()) for (const send of set) send(-1);
      });
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      return client;
    })().catch((error) => {
      this.client = null;
      throw error;
    });
    return this.client;
  }

  private async unreadOf(organizationId: string, userId: string): Promise<number> {
    const result = await (this.db.$client as pg.Pool).query(
      `select count(*)::int as n from notifications where organization_id = $1 and user_id = $2
         and channel = 'in_app' and status = 'sent' and read_at is null`,
      [organizationId, userId],
    );
    return result.rows[0].n as number;
  }

  /** Registers the stream first, so the returned close always undoes it, whatever fails after. */
  open(
    organizationId: string,
    userId: string,
    send: (unread: number) => void,
  ): { ready: Promise<void>; close(): void } {
    const key = `${organizationId}:${userId}`;
    const set = this.streams.get(key) ?? new Set();
    set.add(send);
    this.streams.set(key, set);
    const close = () => {
      set.delete(send);
      if (set.size === 0) this.streams.delete(key);
      // The connection is held only while someone watches (a process with no open stream holds no pool client).
      if (this.streams.size === 0) this.stopListening();
    };
    const ready = this.listen().then(async () => send(await this.unreadOf(organizationId, userId)));
    return { ready, close };
  }

  private stopListening(): void {
    const client = this.client;
    this.client = null;
    void client
      ?.then(async (c) => {
        c.removeAllListeners('notification');
        await c.query(`UNLISTEN ${NOTIFY_CHANNEL}`).catch(() => {});
        c.removeAllListeners('error');
        c.release();
      })
      .catch(() => {});
  }
}

export function notificationsRouter(deps: ApiDeps): Router {
  const router = Router();
  const { db } = deps;
  const streams = new UnreadStreams(db, deps.logger);

  defineRoute(router, {
    method: 'get',
    path: '/api/notifications/rules',
    summary: 'The organisation’s notification rules, the defaults included (seeded on first look)',
    tags: ['Notifications'],
    minRole: 'viewer',
    responses: { 200: { description: 'Rules', schema: NotificationRuleList } },
    handler: async ({ auth, req }) => ({ status: 200, body: { data: await listRules(db, scopeOf(auth, req.id)) } }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/notifications/rules',
    summary:
      'Creates a rule. 422 names the field of an unknown event, a channel that is not connected, a recipient who ' +
      'is not a member, a requester on an internal event, or an escalation on a rule that is not critical.',
    tags: ['Notifications'],
    minRole: 'admin',
    request: { body: NotificationRuleInput },
    responses: { 201: { description: 'Created', schema: NotificationRule } },
    handler: async ({ auth, req, body }) => ({
      status: 201,
      body: await createRule(db, scopeOf(auth, req.id), body),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/notifications/rules/{id}',
    summary: 'One rule',
    tags: ['Notifications'],
    minRole: 'viewer',
    request: { params: idParams },
    responses: { 200: { description: 'The rule', schema: NotificationRule } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: await getRule(db, scopeOf(auth, req.id), params.id),
    }),
  });

  defineRoute(router, {
    method: 'patch',
    path: '/api/notifications/rules/{id}',
    summary: 'Changes a rule (the fields given); the whole result is checked as on create',
    tags: ['Notifications'],
    minRole: 'admin',
    request: { params: idParams, body: NotificationRulePatch },
    responses: { 200: { description: 'The rule', schema: NotificationRule } },
    handler: async ({ auth, req, params, body }) => ({
      status: 200,
      body: await updateRule(db, scopeOf(auth, req.id), params.id, body),
    }),
  });

  defineRoute(router, {
    method: 'delete',
    path: '/api/notifications/rules/{id}',
    summary: 'Deletes a rule; a default rule is switched off instead (409)',
    tags: ['Notifications'],
    minRole: 'admin',
    request: { params: idParams },
    responses: { 204: { description: 'Deleted', schema: null } },
    handler: async ({ auth, req, params }) => {
      await deleteRule(db, scopeOf(auth, req.id), params.id);
      return { status: 204 };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/notifications/preview',
    summary:
      'Who would be notified of a sample event, on which channel, and when (their preferences and quiet hours ' +
      'applied): by the saved rules, or by `rule` as written',
    tags: ['Notifications'],
    minRole: 'admin',
    request: { body: NotificationPreviewInput },
    responses: { 200: { description: 'The preview', schema: NotificationPreview } },
    handler: async ({ auth, req, body }) => ({
      status: 200,
      body: await previewNotifications(db, scopeOf(auth, req.id), body, deps.config.publicUrl),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/notifications/preferences',
    summary: 'The caller’s notification preferences',
    tags: ['Notifications'],
    minRole: 'viewer',
    responses: { 200: { description: 'Preferences', schema: NotificationPreferences } },
    handler: async ({ auth, req }) => ({ status: 200, body: await getPreferences(db, scopeOf(auth, req.id)) }),
  });

  defineRoute(router, {
    method: 'put',
    path: '/api/notifications/preferences',
    summary:
      'Sets the caller’s preferences: channels per category (an empty list turns a category off; critical alerts ' +
      'still arrive), quiet hours in their time zone, digest cadence',
    tags: ['Notifications'],
    minRole: 'viewer',
    request: { body: NotificationPreferencesInput },
    responses: { 200: { description: 'Preferences', schema: NotificationPreferences } },
    handler: async ({ auth, req, body }) => ({
      status: 200,
      body: await updatePreferences(db, scopeOf(auth, req.id), body),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/notifications',
    summary: 'The caller’s in-app notifications, newest first (50 a page, `before` an id), and the unread count',
    tags: ['Notifications'],
    minRole: 'viewer',
    request: { query: pageQuery },
    responses: { 200: { description: 'The centre', schema: NotificationInbox } },
    handler: async ({ auth, req, query }) => ({
      status: 200,
      body: await listInbox(db, scopeOf(auth, req.id), query.before),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/notifications/read',
    summary: 'Marks the caller’s in-app notifications read (these ids, or all)',
    tags: ['Notifications'],
    minRole: 'viewer',
    request: { body: MarkReadInput },
    responses: { 200: { description: 'The new unread count', schema: UnreadCount } },
    handler: async ({ auth, req, body }) => ({
      status: 200,
      body: { unread: await markRead(db, scopeOf(auth, req.id), body.ids ?? 'all') },
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/notifications/held-back',
    summary:
      'The fatigue view: the caller’s notifications that were suppressed, throttled, deferred, digested or ' +
      'failed, on any channel, with the reason',
    tags: ['Notifications'],
    minRole: 'viewer',
    request: { query: pageQuery },
    responses: { 200: { description: 'Held back', schema: NotificationHeldBack } },
    handler: async ({ auth, req, query }) => ({
      status: 200,
      body: { data: await listHeldBack(db, scopeOf(auth, req.id), query.before) },
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/notifications/alerts/{id}/acknowledge',
    summary: 'Acknowledges a critical alert, which cancels its escalation (the first acknowledgement counts)',
    tags: ['Notifications'],
    minRole: 'agent',
    request: { params: idParams },
    responses: { 200: { description: 'Acknowledged', schema: AlertAcknowledgement } },
    handler: async ({ auth, params }) => ({
      status: 200,
      body: await acknowledgeAlert(deps, auth.organizationId, params.id, auth.userId ?? `actor:${auth.actor.id}`),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/notifications/stream',
    summary:
      'Server-sent events: `unread` with the caller’s unread count now and whenever it changes (EventSource ' +
      'reconnects by itself after a break)',
    tags: ['Notifications'],
    minRole: 'viewer',
    rawResponses: { 200: { description: 'An event stream', contentTypes: ['text/event-stream'] } },
    responses: {},
    handler: async ({ auth, res }) => {
      const userId = auth.userId;
      res.status(200).set({
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();
      const stream = streams.open(auth.organizationId, userId, (unread) => {
        if (unread < 0) return res.end();
        res.write(`event: unread\ndata: ${JSON.stringify({ unread })}\n\n`);
      });
      // A comment line now and then keeps proxies from closing an idle stream.
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
      res.on('close', () => {
        clearInterval(keepAlive);
        stream.close();
      });
      // The browser reconnects by itself: a stream that could not start just ends.
      await stream.ready.catch((error: unknown) => {
        deps.logger.warn({ err: (error as Error).message }, 'notification stream could not start');
        res.end();
      });
      return { streamed: true };
    },
  });

  return router;
}
