// The Slack module's authenticated API: the installations and their state, "Add to Slack", the channel picker, a
// test message, the Block Kit preview of a rule's message, an agent's DM choices, and a ticket's Slack threads.
// The channel rules themselves are the installation's config, changed with PATCH /api/integrations/{id}.
import { slackPosts, slackUserSettings, slackWorkspaces } from '@switchboard/database';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { Router } from 'express';
import { TtlCache } from '../../activities/slack/cache.ts';
import { callSlack, slackClients } from '../../activities/slack/client.ts';
import { pausedSummary } from '../../activities/slack/threads.ts';
import { conflict, notFound, RequestError, validationFailed } from '../../common/errors.ts';
import { type TicketCard, threadNote, ticketMessage } from '../../common/slack/blocks.ts';
import { slackMessageKinds } from '../../common/slack/message-kinds.ts';
import { ticketForSlack } from '../../domain/slack/cards.ts';
import { slackRule } from '../../domain/slack/config.ts';
import type { SlackDeps } from '../../domain/slack/deps.ts';
import { workspaceOf, workspacesOf } from '../../domain/slack/installations.ts';
import { assertTicketExists } from '../../domain/tickets/ticket-record.ts';
import { z } from '../../domain/zod.ts';
import { slackSettings } from '../../packages/integrations/slack/settings.ts';
import { ruleMatches } from '../../workflows/slack-thread-plan.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';
import { slackInstaller } from './slack-events.ts';

export function slackDepsOf(deps: ApiDeps): SlackDeps {
  return {
    db: deps.db,
    keys: deps.config.credentialKeys,
    settings: slackSettings.of(deps.config),
    publicUrl: deps.config.publicUrl,
    logger: deps.logger,
    temporal: deps.temporal,
    ticketsTaskQueue: deps.config.temporal.ticketsTaskQueue,
  };
}

const SlackInstallation = registry.register(
  'SlackInstallation',
  z.object({
    integrationId: z.uuid(),
    teamId: z.string(),
    teamName: z.string(),
    botUserId: z.string(),
    connected: z.boolean(),
    disconnectedReason: z.string().nullable().describe('app_uninstalled, tokens_revoked, invalid_auth, …'),
    disconnectedAt: z.string().nullable(),
    isActive: z.boolean(),
    rules: z.array(slackRule),
    publicReplyPrefix: z.string(),
    paused: z.object({
      tickets: z.number().int().describe('Tickets whose Slack messages wait for the workspace to be connected again'),
      since: z.string().nullable(),
    }),
  }),
);
const SlackInstallationList = registry.register(
  'SlackInstallationList',
  z.object({ data: z.array(SlackInstallation) }),
);
const SlackInstallUrl = registry.register('SlackInstallUrl', z.object({ authorizeUrl: z.string() }));
const SlackChannel = registry.register(
  'SlackChannel',
  z.object({ id: z.string(), name: z.string(), isPrivate: z.boolean(), isMember: z.boolean() }),
);
const SlackChannelList = registry.register('SlackChannelList', z.object({ data: z.array(SlackChannel) }));
const SlackTestMessageInput = registry.register(
  'SlackTestMessageInput',
  z.object({ channelId: z.string().regex(/^[CG][A-Z0-9]{2,30}$/, 'must be a Slack channel id') }).strict(),
);
const SlackTestMessageResult = registry.register(
  'SlackTestMessageResult',
  z.object({ ts: z.string(), permalink: z.string().nullable() }),
);
const SlackPreviewInput = registry.register(
  'SlackPreviewInput',
  z
    .object({
      kind: z.enum(slackMessageKinds).default('new_ticket'),
      rule: slackRule.optional(),
      ticketId: z.uuid().optional().describe('Preview with this ticket; a sample ticket otherwise'),
    })
    .strict(),
);
const SlackPreview = registry.register(
  'SlackPreview',
  z.object({
    parent: z.object({ text: z.string(), blocks: z.array(z.record(z.string(), z.unknown())) }),
    reply: z.object({ text: z.string(), blocks: z.array(z.record(z.string(), z.unknown())) }).nullable(),
    matches: z.boolean().nullable().describe('Whether the rule (if given) would send this ticket'),
  }),
);
const SlackPreferences = registry.register(
  'SlackPreferences',
  z.object({ dmAssignments: z.boolean(), dmMentions: z.boolean() }).strict(),
);
const SlackConversation = registry.register(
  'SlackConversation',
  z.object({
    integrationId: z.uuid(),
    teamName: z.string(),
    channelId: z.string(),
    ts: z.string(),
    permalink: z.string().nullable(),
  }),
);
const SlackConversationList = registry.register(
  'SlackConversationList',
  z.object({ data: z.array(SlackConversation) }),
);

const idParams = z.object({ id: z.uuid() }).strict();

export function slackRouter(apiDeps: ApiDeps): Router {
  const router = Router();
  const deps = slackDepsOf(apiDeps);
  const clients = slackClients(deps);
  const channelCache = new TtlCache<z.infer<typeof SlackChannel>[]>(deps.settings.cacheTtlMs, 1000);

  defineRoute(router, {
    method: 'get',
    path: '/api/slack/installations',
    summary: 'The organisation’s Slack workspaces: connected or why not, their channel rules, and paused work',
    tags: ['Slack'],
    minRole: 'viewer',
    responses: { 200: { description: 'Installations', schema: SlackInstallationList } },
    handler: async ({ auth }) => {
      const list = await workspacesOf(deps, auth.organizationId);
      const data = await Promise.all(
        list.map(async (w) => {
          const paused = await pausedSummary(deps, w.integrationId);
          return {
            integrationId: w.integrationId,
            teamId: w.teamId,
            teamName: w.teamName,
            botUserId: w.botUserId,
            connected: !w.disconnectedReason,
            disconnectedReason: w.disconnectedReason,
            disconnectedAt: w.disconnectedAt?.toISOString() ?? null,
            isActive: w.isActive,
            rules: w.config.rules,
            publicReplyPrefix: w.config.publicReplyPrefix ?? deps.settings.publicReplyPrefix,
            paused: { tickets: paused.count, since: paused.since ? new Date(paused.since).toISOString() : null },
          };
        }),
      );
      return { status: 200, body: { data } };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/slack/install',
    summary:
      '“Add to Slack”: the URL to send the admin’s browser to (Slack OAuth v2). The state is single use, valid 10 ' +
      'minutes, and set as a cookie for the callback to compare. 409 when the server has no Slack app configured.',
    tags: ['Slack'],
    minRole: 'admin',
    responses: { 200: { description: 'Where to send the browser', schema: SlackInstallUrl } },
    handler: async ({ auth }) => {
      const installer = await slackInstaller(deps);
      if (!installer)
        throw conflict(
          'Slack is not configured on this server: set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET',
        );
      if (!auth.userId) throw conflict('installing Slack needs a signed-in person');
      const authorizeUrl = await installer.generateInstallUrl(
        {
          scopes: deps.settings.scopes,
          redirectUri: deps.settings.redirectUri,
          metadata: JSON.stringify({ organizationId: auth.organizationId, userId: auth.userId }),
        },
        true,
      );
      const state = new URL(authorizeUrl).searchParams.get('state') ?? '';
      const secure = deps.publicUrl.startsWith('https:') ? '; Secure' : '';
      return {
        status: 200,
        body: { authorizeUrl },
        headers: {
          'set-cookie': `slack-app-oauth-state=${state}; HttpOnly; SameSite=Lax; Path=/api/slack/oauth; Max-Age=600${secure}`,
          'cache-control': 'no-store',
        },
      };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/slack/installations/{id}/channels',
    summary: 'The workspace’s channels for the rule picker (conversations.list, cached for SLACK_CACHE_TTL_SECONDS)',
    tags: ['Slack'],
    minRole: 'admin',
    request: { params: idParams },
    responses: { 200: { description: 'Channels', schema: SlackChannelList } },
    handler: async ({ auth, params }) => {
      const workspace = await workspaceOf(deps, auth.organizationId, params.id);
      if (workspace.disconnectedReason)
        throw conflict(`the workspace is disconnected (${workspace.disconnectedReason})`);
      const data = await channelCache
        .get(workspace.teamId, () => listChannels(workspace))
        .catch((error: unknown) => {
          throw new RequestError(502, 'slack_failed', `Slack did not list the channels: ${(error as Error).message}`);
        });
      return { status: 200, body: { data } };
    },
  });

  async function listChannels(workspace: Awaited<ReturnType<typeof workspaceOf>>) {
    const client = await clients.forWorkspace(workspace);
    const channels: z.infer<typeof SlackChannel>[] = [];
    let cursor: string | undefined;
    do {
      const page = await callSlack(deps, workspace, 'conversations.list', () =>
        client.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        }),
      );
      for (const c of page.channels ?? [])
        if (c.id && c.name)
          channels.push({ id: c.id, name: c.name, isPrivate: !!c.is_private, isMember: !!c.is_member });
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && channels.length < 5000);
    return channels.sort((a, b) => a.name.localeCompare(b.name));
  }

  defineRoute(router, {
    method: 'post',
    path: '/api/slack/installations/{id}/test-message',
    summary: 'Posts a test message to a channel now (joining it if public), to check a rule’s channel',
    tags: ['Slack'],
    minRole: 'admin',
    request: { params: idParams, body: SlackTestMessageInput },
    responses: { 200: { description: 'Posted', schema: SlackTestMessageResult } },
    handler: async ({ auth, params, body }) => {
      const workspace = await workspaceOf(deps, auth.organizationId, params.id);
      if (workspace.disconnectedReason)
        throw conflict(`the workspace is disconnected (${workspace.disconnectedReason})`);
      const client = await clients.forWorkspace(workspace);
      const text =
        ':white_check_mark: Switchboard can post here. Ticket messages for this channel’s rules will look like the preview.';
      const post = () => client.chat.postMessage({ channel: body.channelId, text });
      let result: Awaited<ReturnType<typeof post>>;
      try {
        result = await post();
      } catch (error) {
        const code = (error as { data?: { error?: string } }).data?.error;
        if (code === 'not_in_channel') {
          await client.conversations.join({ channel: body.channelId }).catch(() => {});
          result = await post().catch((e) => Promise.reject(slackRefusal(e)));
        } else throw slackRefusal(error);
      }
      const permalink = await client.chat
        .getPermalink({ channel: body.channelId, message_ts: result.ts! })
        .then((r) => r.permalink ?? null)
        .catch(() => null);
      return { status: 200, body: { ts: result.ts!, permalink } };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/slack/preview',
    summary:
      'The Block Kit message a rule would send (the ticket’s message and, for kinds other than new_ticket, the ' +
      'thread reply), for a real ticket or a sample one; and whether the rule matches it',
    tags: ['Slack'],
    minRole: 'agent',
    request: { body: SlackPreviewInput },
    responses: { 200: { description: 'Preview', schema: SlackPreview } },
    handler: async ({ auth, body }) => {
      let card: TicketCard;
      let facts = null;
      if (body.ticketId) {
        await assertTicketExists(deps.db, auth.organizationId, body.ticketId);
        const ticket = await ticketForSlack(deps.db, deps.publicUrl, auth.organizationId, body.ticketId);
        if (!ticket) throw notFound('ticket');
        card = ticket.card;
        facts = ticket.facts;
      } else {
        card = sampleCard(deps.publicUrl);
        facts = {
          priority: card.priority,
          status: card.status,
          tags: ['billing'],
          assigneeId: null,
          requesterEmail: card.requester?.email ?? null,
          channel: 'email' as const,
        };
      }
      const reply =
        body.kind === 'status_change'
          ? threadNote({ kind: 'status', from: 'open', to: 'pending', by: 'Ada Lovelace' })
          : body.kind === 'high_priority'
            ? threadNote({ kind: 'priority', from: 'normal', to: 'urgent', by: 'Ada Lovelace' })
            : body.kind === 'sla'
              ? threadNote({
                  kind: 'sla',
                  breached: false,
                  slaKind: 'resolution',
                  dueAt: new Date(Date.now() + 3_600_000).toISOString(),
                })
              : null;
      return {
        status: 200,
        body: { parent: ticketMessage(card), reply, matches: body.rule ? ruleMatches(body.rule, facts) : null },
      };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/slack/me',
    summary: 'Whether you get your assignments and mentions as Slack DMs (in every connected workspace you are in)',
    tags: ['Slack'],
    minRole: 'agent',
    responses: { 200: { description: 'Your choices', schema: SlackPreferences } },
    handler: async ({ auth }) => {
      const [row] = await deps.db
        .select()
        .from(slackUserSettings)
        .where(
          and(
            eq(slackUserSettings.organizationId, auth.organizationId),
            eq(slackUserSettings.userId, auth.userId ?? ''),
          ),
        );
      return {
        status: 200,
        body: { dmAssignments: row?.dmAssignments ?? false, dmMentions: row?.dmMentions ?? false },
      };
    },
  });

  defineRoute(router, {
    method: 'put',
    path: '/api/slack/me',
    summary: 'Choose whether you get your assignments and mentions as Slack DMs',
    tags: ['Slack'],
    minRole: 'agent',
    request: { body: SlackPreferences },
    responses: { 200: { description: 'Saved', schema: SlackPreferences } },
    handler: async ({ auth, body }) => {
      if (!auth.userId)
        throw validationFailed('DM choices are a person’s', [{ path: 'body', message: 'sign in as a person' }]);
      await deps.db
        .insert(slackUserSettings)
        .values({ organizationId: auth.organizationId, userId: auth.userId, ...body })
        .onConflictDoUpdate({
          target: [slackUserSettings.organizationId, slackUserSettings.userId],
          set: { ...body, updatedAt: sql`now()` },
        });
      return { status: 200, body };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/tickets/{id}/slack',
    summary: 'The ticket’s messages in Slack (one per channel), with their permalinks',
    tags: ['Slack'],
    minRole: 'viewer',
    request: { params: idParams },
    responses: { 200: { description: 'Conversations', schema: SlackConversationList } },
    handler: async ({ auth, params }) => {
      await assertTicketExists(deps.db, auth.organizationId, params.id);
      const rows = await deps.db
        .select({
          integrationId: slackPosts.integrationId,
          teamName: slackWorkspaces.teamName,
          channelId: slackPosts.channelId,
          ts: slackPosts.ts,
          permalink: slackPosts.permalink,
        })
        .from(slackPosts)
        .innerJoin(slackWorkspaces, eq(slackWorkspaces.integrationId, slackPosts.integrationId))
        .where(
          and(
            eq(slackPosts.ticketId, params.id),
            eq(slackPosts.organizationId, auth.organizationId),
            eq(slackPosts.kind, 'parent'),
            isNotNull(slackPosts.ts),
            sql`${slackPosts.channelId} not like 'D%'`,
          ),
        )
        .orderBy(slackPosts.createdAt);
      return { status: 200, body: { data: rows.map((r) => ({ ...r, ts: r.ts! })) } };
    },
  });

  return router;
}

function slackRefusal(error: unknown) {
  const code = (error as { data?: { error?: string } }).data?.error ?? 'unreachable';
  return validationFailed(`Slack refused the test message: ${code}`, [{ path: 'body.channelId', message: code }]);
}

function sampleCard(publicUrl: string): TicketCard {
  return {
    id: '00000000-0000-4000-8000-000000000042',
    number: 42,
    subject: 'Cannot download my invoice',
    status: 'open',
    priority: 'high',
    requester: { email: 'carol@customer.test', name: 'Carol Customer' },
    assigneeName: null,
    sla: { kind: 'first_response', dueAt: new Date(Date.now() + 2 * 3_600_000).toISOString(), breached: false },
    url: `${publicUrl.replace(/\/$/, '')}/tickets/00000000-0000-4000-8000-000000000042`,
  };
}
