// Slack's requests to us: the Events API, slash commands, interactivity (buttons, menus, modals, shortcuts) at one
// Request URL, and the "Add to Slack" return. Mounted before the /api body parser and authentication: Bolt's own
// ExpressReceiver reads the raw body and checks Slack's signature (v0 HMAC of `v0:timestamp:body`, five-minute
// window) on every request, answering 401 to a missing, wrong or stale one.
//
// Every interaction is answered well inside Slack's three seconds: the handler records what happened (once, by
// Slack's event id or the interaction's key) and acknowledges; the hand-over to the ticket's workflow (a signal) is
// sent right after without being waited for, and the workflow does the work (domain/slack/inbound.ts). Bolt answers
// only after the handler finished (processBeforeResponse), so a failure to record is an error Slack sees and
// retries, never a lost click.
import type { App, AuthorizeResult, Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { InstallProvider } from '@slack/oauth';
import type { WebClient } from '@slack/web-api';
import { Router } from 'express';
import { TtlCache } from '../../activities/slack/cache.ts';
import { type SlackPerson, slackPerson } from '../../activities/slack/people.ts';
import { ticketPriorities } from '../../common/enums.ts';
import { onFirstUse } from '../../common/lazy-module.ts';
import { type Logger, serializeError, withoutQueryParams } from '../../common/logger.ts';
import { type Block, HELP_TEXT, slackActionIds, slackCallbackIds, ticketDetails } from '../../common/slack/blocks.ts';
import { parseTicketCommand } from '../../common/slack/commands.ts';
import type { Answer, SlackInboundPayload } from '../../common/slack/inbound.ts';
import { memberByEmail } from '../../domain/members/lookup.ts';
import { acknowledgeAlertFromSlack, isNotificationAckAction } from '../../domain/notifications/slack-acknowledge.ts';
import { ticketForSlack } from '../../domain/slack/cards.ts';
import type { SlackDeps } from '../../domain/slack/deps.ts';
import {
  recordSlackInbound,
  ticketIdByNumber,
  ticketNumberOf,
  ticketOfOrganization,
} from '../../domain/slack/inbound.ts';
import {
  botTokenOf,
  fetchSlackInstallation,
  markWorkspaceDisconnected,
  SlackInstallRefused,
  type SlackWorkspace,
  slackStateStore,
  storeSlackInstallation,
  workspaceByTeam,
} from '../../domain/slack/installations.ts';
import { resumeWorkspace } from '../../domain/slack/resume.ts';
import { ticketOfThread } from '../../domain/slack/thread-ticket.ts';
import { registry } from '../openapi/registry.ts';

export const SLACK_EVENTS_PATH = '/api/slack/events';
export const SLACK_CALLBACK_PATH = '/api/slack/oauth/callback';
const INTEGRATIONS_PAGE = '/settings/integrations';

// Bolt and the OAuth installer are loaded by the first request that needs them (common/lazy-module.ts): most
// deployments' API never serves one, and at start they are memory the uploads could use.
const loadBolt = onFirstUse(() => import('@slack/bolt'));
const loadOAuth = onFirstUse(() => import('@slack/oauth'));

/**
 * Bolt's logger, onto ours: Bolt's words, with the redaction every log line gets (an error's SQL parameters, a URL's
 * query), never a request body.
 */
function boltLogger(logger: Logger, initialLevel: LogLevel): BoltLogger {
  let level = initialLevel;
  const line = (msg: unknown[]) => ({
    slack: msg
      .filter((m) => !(m instanceof Error))
      .map((m) => withoutQueryParams(String(m)))
      .join(' ')
      .slice(0, 500),
    ...(msg.some((m) => m instanceof Error) ? { err: serializeError(msg.find((m) => m instanceof Error)) } : {}),
  });
  return {
    debug: () => {},
    info: () => {},
    warn: (...msg: unknown[]) => logger.warn(line(msg), 'slack (bolt)'),
    error: (...msg: unknown[]) => logger.error(line(msg), 'slack (bolt)'),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** The InstallProvider of the "Add to Slack" flow (the authenticated start route uses it too). */
export async function slackInstaller(deps: SlackDeps): Promise<InstallProvider | null> {
  const { clientId, clientSecret } = deps.settings;
  if (!clientId || !clientSecret) return null;
  const { InstallProvider, LogLevel } = await loadOAuth();
  return new InstallProvider({
    clientId,
    clientSecret,
    authorizationUrl: deps.settings.authorizeUrl,
    stateStore: slackStateStore(deps),
    installationStore: {
      storeInstallation: async (installation) => {
        const { integrationId, reconnected } = await storeSlackInstallation(deps, installation);
        if (reconnected) await resumeWorkspace(deps, integrationId);
        installedIds.set(installation, integrationId);
      },
      fetchInstallation: (query) => fetchSlackInstallation(deps, query) as never,
    },
    clientOptions: { slackApiUrl: deps.settings.apiUrl },
    logger: boltLogger(deps.logger, LogLevel.WARN),
  });
}
const installedIds = new WeakMap<object, string>();

let documented = false;

/** Slack's two ways in, in the OpenAPI document: Slack's own protocol, answered by Bolt (not by defineRoute). */
function documentSlackRoutes(): void {
  if (documented) return;
  documented = true;
  registry.registerPath({
    method: 'post',
    path: SLACK_EVENTS_PATH,
    summary:
      'Slack’s Request URL for the Events API, interactivity (buttons, menus, modals, shortcuts) and slash commands, ' +
      'signed by Slack (X-Slack-Signature: v0= HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` with ' +
      'SLACK_SIGNING_SECRET; older than five minutes is refused). 200 once recorded (the hand-over to the ' +
      'ticket’s workflow follows; with the command’s or the modal’s answer); 401 for a missing, wrong or stale signature or an ' +
      'unknown workspace; 503 when the server has no signing secret.',
    tags: ['Slack'],
    responses: {
      200: { description: 'Received (Slack’s answer format: empty, or an ephemeral message, or a modal answer)' },
      401: { description: 'Signature missing, wrong or stale; or a workspace not installed here' },
      503: { description: 'Slack is not configured on this server' },
    },
  });
  registry.registerPath({
    method: 'get',
    path: SLACK_CALLBACK_PATH,
    summary:
      'Where Slack sends the admin’s browser back after “Add to Slack” (the redirect URL to register on the Slack ' +
      'app). Redirects to /settings/integrations?slack=connected&integration=<id>, or ?slack=error&reason=<code> ' +
      '(invalid_state, workspace_taken, enterprise_install, …). The state must be single use, fresh, and the one in ' +
      'the browser’s slack-app-oauth-state cookie.',
    tags: ['Slack'],
    responses: { 302: { description: 'To the dashboard’s integrations page' } },
  });
}

export function slackEventsRouter(deps: SlackDeps): Router {
  documentSlackRoutes();
  const router = Router();
  const { clientId, clientSecret } = deps.settings;
  // The installer is made by the first callback (slackInstaller answers null exactly when these are missing); a
  // failed build is tried again by the next.
  const installer = onFirstUse(() => slackInstaller(deps));
  if (clientId && clientSecret)
    router.get(SLACK_CALLBACK_PATH, (req, res) => {
      void installer()
        .then((provider) =>
          provider!.handleCallback(req, res, {
            success: (installation, _options, _req, response) => {
              const query = new URLSearchParams({
                slack: 'connected',
                integration: installedIds.get(installation) ?? '',
              });
              response.writeHead(302, { Location: `${INTEGRATIONS_PAGE}?${query}` }).end();
            },
            failure: (error, _options, _req, response) => {
              const reason =
                error instanceof SlackInstallRefused
                  ? error.reason
                  : ((error as { code?: string }).code ?? 'install_failed').replace(/[^a-z0-9_]/gi, '').slice(0, 60);
              deps.logger.warn({ reason }, 'Slack install failed');
              response
                .writeHead(302, { Location: `${INTEGRATIONS_PAGE}?${new URLSearchParams({ slack: 'error', reason })}` })
                .end();
            },
          }),
        )
        .catch((error: unknown) => {
          deps.logger.error({ err: error }, 'Slack install callback failed');
          if (!res.headersSent) res.redirect(302, `${INTEGRATIONS_PAGE}?slack=error&reason=install_failed`);
        });
    });

  const { signingSecret } = deps.settings;
  if (!signingSecret) {
    // Without the app's signing secret no request can be verified: every one is refused, never processed.
    router.post(SLACK_EVENTS_PATH, (_req, res) => {
      res.status(503).json({ error: 'slack_not_configured', message: 'SLACK_SIGNING_SECRET is not set' });
    });
    return router;
  }
  // Bolt's receiver serves only this path, so only a request to it loads Bolt and builds the receiver, once (a failed
  // build, a load or constructor error, is tried again by the next request).
  const bolt = onFirstUse(() => boltRouter(deps, signingSecret));
  router.post(SLACK_EVENTS_PATH, (req, res, next) => {
    bolt()
      .then((receiverRouter) => receiverRouter(req, res, next))
      .catch(next);
  });
  return router;
}

/** Bolt's app on its ExpressReceiver (which checks Slack's signature), with every listener registered. */
async function boltRouter(deps: SlackDeps, signingSecret: string): Promise<Router> {
  const { App, ExpressReceiver, LogLevel } = await loadBolt();
  const receiver = new ExpressReceiver({
    signingSecret,
    endpoints: SLACK_EVENTS_PATH,
    processBeforeResponse: true,
    router: Router(),
    logger: boltLogger(deps.logger, LogLevel.WARN),
  });
  const app = new App({
    receiver,
    authorize: (source) => authorize(deps, source.teamId),
    // Inside Slack's three seconds there is no time for WebClient's own retries (views.open, users.info).
    // A 429 fails the call at once (rejectRateLimitedCalls) rather than pausing the workspace's client past them.
    clientOptions: {
      slackApiUrl: deps.settings.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 2500,
    },
    logger: boltLogger(deps.logger, LogLevel.WARN),
    ignoreSelf: true,
  });
  registerListeners(app, deps);
  return receiver.router;
}

/**
 * Bolt's authorize: the bot of a workspace linked to an organisation, connected or not. A disconnected one is still
 * answered (200, and the handlers say it is not connected) rather than refused: Slack switches off event delivery for
 * an app whose Request URL keeps failing, which would silence every other workspace too. Unknown workspaces are
 * refused.
 */
async function authorize(deps: SlackDeps, teamId: string | undefined): Promise<AuthorizeResult> {
  const workspace = teamId ? await workspaceByTeam(deps, teamId) : null;
  if (!workspace) throw new Error(`no installation for ${teamId}`);
  return { botToken: await botTokenOf(deps, workspace), botUserId: workspace.botUserId, teamId: workspace.teamId };
}

type Ctx = { deps: SlackDeps; people: TtlCache<SlackPerson> };

/** The workspace, while it is connected and its installation switched on. */
async function workspaceOrNull(deps: SlackDeps, teamId: string | undefined): Promise<SlackWorkspace | null> {
  if (!teamId) return null;
  const workspace = await workspaceByTeam(deps, teamId);
  return workspace && !workspace.disconnectedReason && workspace.isActive ? workspace : null;
}

/** Message subtypes that are still a person's reply. */
const REPLY_SUBTYPES: ReadonlySet<string> = new Set(['thread_broadcast', 'file_share']);

const ephemeral = (text: string) => ({ response_type: 'ephemeral' as const, text });

function registerListeners(app: App, deps: SlackDeps) {
  const ctx: Ctx = { deps, people: new TtlCache(deps.settings.cacheTtlMs) };

  // ---- Events
  app.event('app_uninstalled', async ({ context, body }) => {
    const teamId = context.teamId ?? body.team_id;
    if (teamId) await markWorkspaceDisconnected(deps, teamId, 'app_uninstalled');
  });
  app.event('tokens_revoked', async ({ event, context, body }) => {
    const teamId = context.teamId ?? body.team_id;
    if (teamId && (event.tokens.bot?.length ?? 0) > 0) await markWorkspaceDisconnected(deps, teamId, 'tokens_revoked');
  });
  app.event('message', async ({ event, body, context, client }) => {
    const message = event as unknown as {
      subtype?: string;
      bot_id?: string;
      user?: string;
      text?: string;
      ts: string;
      thread_ts?: string;
      channel: string;
      files?: Array<{ name?: string; permalink?: string }>;
    };
    // Edits and deletions in Slack are deliberately not mirrored (specification/slack.md): the ticket keeps what
    // was said. Bots (ourselves included) are not people replying; a reply also sent to the channel
    // (thread_broadcast) or with a file (file_share) is a person's reply like any other.
    if (message.subtype && !REPLY_SUBTYPES.has(message.subtype)) return;
    if (message.bot_id || !message.user) return;
    if (!message.thread_ts || message.thread_ts === message.ts) return;
    const workspace = await workspaceOrNull(deps, context.teamId);
    if (!workspace) return;
    const parent = await ticketOfThread(deps, client, workspace, message.channel, message.thread_ts);
    if (!parent) return;
    await recordSlackInbound(deps, workspace, `event:${body.event_id}`, parent.ticketId, {
      kind: 'thread_reply',
      slackUserId: message.user,
      channelId: message.channel,
      ts: message.ts,
      threadTs: message.thread_ts,
      text: message.text ?? '',
      files: (message.files ?? [])
        .filter((f) => f.name && f.permalink?.startsWith('https://'))
        .slice(0, 20)
        .map((f) => ({ name: f.name!.slice(0, 200), permalink: f.permalink!.slice(0, 500) })),
    });
  });

  // ---- /ticket
  app.command(/^\/.+/, async ({ command, ack, client, context }) => {
    const parsed = parseTicketCommand(command.text);
    if (parsed.kind === 'help') return ack(ephemeral(HELP_TEXT));
    if (parsed.kind === 'error') return ack(ephemeral(`:warning: ${parsed.message}`));
    const workspace = await workspaceOrNull(deps, context.teamId);
    if (!workspace)
      return ack(
        ephemeral(':warning: This workspace is not connected to Switchboard, or Slack is switched off there.'),
      );
    if (parsed.kind === 'create') {
      await ack();
      await client.views.open({ trigger_id: command.trigger_id, view: createTicketView(command.channel_id) });
      return;
    }
    const ticketId = await ticketIdByNumber(deps, workspace.organizationId, parsed.number);
    if (!ticketId)
      return ack(ephemeral(`:warning: There is no ticket #${parsed.number}. Check the number in the dashboard.`));
    if (parsed.kind === 'show') {
      const member = await memberOf(ctx, client, workspace, command.user_id);
      if (!member)
        return ack(ephemeral(':no_entry_sign: Your Slack account is not a member of this Switchboard organisation.'));
      const ticket = await ticketForSlack(deps.db, deps.publicUrl, workspace.organizationId, ticketId);
      if (!ticket) return ack(ephemeral(`:warning: There is no ticket #${parsed.number}.`));
      return ack({ response_type: 'ephemeral', ...ticketDetails(ticket.card) });
    }
    await recordSlackInbound(deps, workspace, `command:${command.trigger_id}`, ticketId, {
      kind: 'command',
      slackUserId: command.user_id,
      command: parsed,
      responseUrl: command.response_url,
      channelId: command.channel_id,
    });
    return ack(ephemeral(`Working on #${parsed.number}…`));
  });

  // ---- Buttons and menus on a ticket's message
  app.action({ type: 'block_actions' }, async ({ body, action, ack, client, context }) => {
    const act = action as { action_id: string; value?: string; block_id?: string; selected_option?: { value: string } };
    if (act.action_id === slackActionIds.open) return ack();
    const workspace = await workspaceOrNull(deps, context.teamId);
    if (!workspace) return ack();
    if (isNotificationAckAction(act.action_id))
      return acknowledgeAlertFromSlack(ctx, {
        client,
        workspace,
        slackUserId: body.user.id,
        alertId: act.value,
        actionId: act.action_id,
        responseUrl: (body as { response_url?: string }).response_url,
        message: (body as { message?: { text?: string; blocks?: Block[] } }).message,
        ack: () => ack(),
      });
    const fromBlock = act.block_id?.startsWith('sb_ticket:') ? act.block_id.slice('sb_ticket:'.length) : undefined;
    const ticketId = await ticketOfOrganization(deps, workspace.organizationId, act.value ?? fromBlock);
    if (!ticketId) return ack();
    const answer: Answer = {
      responseUrl: (body as { response_url?: string }).response_url,
      ...(body.channel?.id ? { channelId: body.channel.id } : {}),
    };
    const user = body.user.id;
    let payload: SlackInboundPayload | null = null;
    if (act.action_id === slackActionIds.assignToMe) payload = { kind: 'assign_me', slackUserId: user, ...answer };
    else if (act.action_id === slackActionIds.status && act.selected_option)
      payload = { kind: 'set_status', slackUserId: user, status: act.selected_option.value, ...answer };
    else if (act.action_id === slackActionIds.discussInDm)
      payload = { kind: 'discuss_dm', slackUserId: user, ...answer };
    else if (act.action_id === slackActionIds.addNote) {
      await ack();
      await client.views.open({
        trigger_id: (body as { trigger_id: string }).trigger_id,
        view: addNoteView(ticketId, body.channel?.id),
      });
      return;
    }
    if (!payload) return ack();
    await recordSlackInbound(
      deps,
      workspace,
      `action:${(body as { trigger_id: string }).trigger_id}`,
      ticketId,
      payload,
    );
    return ack();
  });

  // ---- Modals
  app.view(slackCallbackIds.addNoteView, async ({ body, view, ack, context }) => {
    const workspace = await workspaceOrNull(deps, context.teamId);
    const meta = safeJson(view.private_metadata) as { ticketId?: string; channelId?: string };
    const ticketId = workspace ? await ticketOfOrganization(deps, workspace.organizationId, meta.ticketId) : null;
    const body_ = view.state.values.note?.body?.value?.trim() ?? '';
    if (!body_) return ack({ response_action: 'errors', errors: { note: 'Write the note first.' } });
    if (!workspace || !ticketId)
      return ack({ response_action: 'errors', errors: { note: 'That ticket no longer exists.' } });
    await recordSlackInbound(deps, workspace, `view:${view.id}`, ticketId, {
      kind: 'note',
      slackUserId: body.user.id,
      body: body_,
      ...(meta.channelId ? { channelId: meta.channelId } : {}),
    });
    return ack();
  });

  app.view(slackCallbackIds.createTicketView, async ({ body, view, ack, context }) => {
    const values = view.state.values;
    const subject = values.subject?.subject?.value?.trim() ?? '';
    const description = values.description?.description?.value?.trim() ?? '';
    const priority = values.priority?.priority?.selected_option?.value ?? 'normal';
    const requester = values.requester?.requester?.value?.trim() ?? '';
    const errors: Record<string, string> = {};
    if (!subject) errors.subject = 'A ticket needs a subject.';
    else if (subject.length > 500) errors.subject = 'At most 500 characters.';
    if (requester && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(requester))
      errors.requester = 'Give an email address, such as ana@example.com.';
    if (!(ticketPriorities as readonly string[]).includes(priority)) errors.priority = 'Choose a priority.';
    if (Object.keys(errors).length > 0) return ack({ response_action: 'errors', errors });
    const workspace = await workspaceOrNull(deps, context.teamId);
    if (!workspace) return ack({ response_action: 'errors', errors: { subject: 'This workspace is not connected.' } });
    const meta = safeJson(view.private_metadata) as { channelId?: string };
    await recordSlackInbound(deps, workspace, `view:${view.id}`, null, {
      kind: 'create',
      slackUserId: body.user.id,
      subject,
      description,
      priority: priority as (typeof ticketPriorities)[number],
      requesterEmail: requester || null,
      ...(meta.channelId ? { channelId: meta.channelId } : {}),
    });
    return ack();
  });

  // ---- Shortcuts
  app.shortcut(slackCallbackIds.createTicketView, async ({ shortcut, ack, client }) => {
    await ack();
    await client.views.open({ trigger_id: shortcut.trigger_id, view: createTicketView(undefined) });
  });
  app.shortcut({ type: 'message_action' }, async ({ shortcut, ack, context, client }) => {
    const s = shortcut as unknown as {
      callback_id: string;
      team: { id: string } | null;
      channel: { id: string };
      user: { id: string };
      message: { ts: string; text?: string; user?: string; thread_ts?: string; bot_id?: string };
      response_url: string;
      trigger_id: string;
    };
    const workspace = await workspaceOrNull(deps, context.teamId);
    if (!workspace) return ack();
    const answer: Answer = { responseUrl: s.response_url, channelId: s.channel.id };
    if (s.callback_id === slackCallbackIds.createFromMessage) {
      const recorded = await recordSlackInbound(
        deps,
        workspace,
        `from-message:${s.channel.id}:${s.message.ts}`,
        null,
        {
          kind: 'create_from_message',
          slackUserId: s.user.id,
          channelId: s.channel.id,
          messageTs: s.message.ts,
          text: s.message.text ?? '',
          authorSlackUserId: s.message.user ?? null,
          ...answer,
        },
        // Refused for someone else (a guest, a viewer): the next person may try again.
        { reopenRefused: true },
      );
      // Only what the person may know: the ticket's number, never the first person's outcome.
      if (recorded.duplicate && recorded.status === 'applied' && recorded.ticketId) {
        const number = await ticketNumberOf(deps, workspace.organizationId, recorded.ticketId);
        if (number !== null)
          void respondNow(deps, s.response_url, `Ticket #${number} was already made from this message.`);
      }
      return ack();
    }
    if (s.callback_id === slackCallbackIds.replyToCustomer) {
      const threadTs = s.message.thread_ts;
      // A person's reply in a ticket's thread: not the ticket's own message, not a bot's note.
      const isReply = !!threadTs && threadTs !== s.message.ts && !s.message.bot_id && !!s.message.user;
      const parent = isReply ? await ticketOfThread(deps, client, workspace, s.channel.id, threadTs!) : null;
      await ack();
      if (!parent) {
        void respondNow(
          deps,
          s.response_url,
          ':warning: "Reply to customer" works on a person’s reply in a ticket’s thread.',
        );
        return;
      }
      // Per person: one refused (a guest, a viewer) does not stop an agent; the customer gets it once either way.
      await recordSlackInbound(
        deps,
        workspace,
        `to-customer:${s.channel.id}:${s.message.ts}:${s.user.id}`,
        parent.ticketId,
        {
          kind: 'reply_to_customer',
          slackUserId: s.user.id,
          channelId: s.channel.id,
          messageTs: s.message.ts,
          text: s.message.text ?? '',
          ...answer,
        },
      );
      return;
    }
    return ack();
  });
}

async function memberOf(ctx: Ctx, client: WebClient, workspace: SlackWorkspace, slackUserId: string) {
  const person = await slackPerson({ db: ctx.deps.db, people: ctx.people }, client, workspace, slackUserId).catch(
    () => null,
  );
  return person?.email ? memberByEmail(ctx.deps.db, workspace.organizationId, person.email) : null;
}

async function respondNow(deps: SlackDeps, responseUrl: string, text: string): Promise<void> {
  const { allowedResponseUrl } = await import('../../activities/slack/respond.ts');
  const url = allowedResponseUrl(responseUrl, deps.settings.responseUrlHosts);
  if (!url) return;
  await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
    signal: AbortSignal.timeout(deps.settings.timeoutMs),
    redirect: 'manual',
  }).catch(() => {});
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return {};
  }
}

function addNoteView(ticketId: string, channelId: string | undefined) {
  return {
    type: 'modal' as const,
    callback_id: slackCallbackIds.addNoteView,
    private_metadata: JSON.stringify({ ticketId, channelId }),
    title: { type: 'plain_text' as const, text: 'Add internal note' },
    submit: { type: 'plain_text' as const, text: 'Add note' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'note',
        label: { type: 'plain_text' as const, text: 'Note (agents only)' },
        element: { type: 'plain_text_input', action_id: 'body', multiline: true, max_length: 3000 },
      },
    ],
  };
}

function createTicketView(channelId: string | undefined) {
  return {
    type: 'modal' as const,
    callback_id: slackCallbackIds.createTicketView,
    private_metadata: JSON.stringify({ channelId }),
    title: { type: 'plain_text' as const, text: 'New ticket' },
    submit: { type: 'plain_text' as const, text: 'Create' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'subject',
        label: { type: 'plain_text' as const, text: 'Subject' },
        element: { type: 'plain_text_input', action_id: 'subject', max_length: 500 },
      },
      {
        type: 'input',
        block_id: 'description',
        optional: true,
        label: { type: 'plain_text' as const, text: 'Description' },
        element: { type: 'plain_text_input', action_id: 'description', multiline: true },
      },
      {
        type: 'input',
        block_id: 'priority',
        label: { type: 'plain_text' as const, text: 'Priority' },
        element: {
          type: 'static_select',
          action_id: 'priority',
          initial_option: { text: { type: 'plain_text', text: 'normal' }, value: 'normal' },
          options: ticketPriorities.map((p) => ({ text: { type: 'plain_text', text: p }, value: p })),
        },
      },
      {
        type: 'input',
        block_id: 'requester',
        optional: true,
        label: { type: 'plain_text' as const, text: 'Requester email' },
        element: { type: 'plain_text_input', action_id: 'requester' },
      },
    ],
  };
}
