// Applying what someone did in Slack, as them: their Slack account's email must be a member's of the organisation
// that installed the workspace, and their role must allow the change, exactly as in the dashboard (viewers read
// only). The change goes through the domain (same validation, same outbox), in the same transaction that marks the
// inbound row applied, so a retried activity (or a replayed click) changes nothing twice.
import { type Database, slackInbound, supportRequests, ticketComments } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, sql } from 'drizzle-orm';
import type { TicketStatus } from '../../common/enums.ts';
import { RequestError } from '../../common/errors.ts';
import { escapeMrkdwn } from '../../common/slack/blocks.ts';
import type { SlackInboundPayload } from '../../common/slack/inbound.ts';
import { slackTextToPlain } from '../../common/slack/text.ts';
import { memberByEmail, type OrgMember } from '../../domain/members/lookup.ts';
import type { Scope } from '../../domain/scope.ts';
import { findWorkspace, type SlackWorkspace } from '../../domain/slack/installations.ts';
import { addComment } from '../../domain/tickets/comments.ts';
import { createTicket } from '../../domain/tickets/create-ticket.ts';
import { updateTicket } from '../../domain/tickets/update-ticket.ts';
import { type InboundOutcome, SLACK_REFUSED } from '../../workflows/slack-contract.ts';
import type { TtlCache } from './cache.ts';
import { assertConnected } from './client.ts';
import type { DeliverDeps } from './deliver.ts';
import { type SlackPerson, slackPerson } from './people.ts';

export type InboundDeps = DeliverDeps & { people: TtlCache<SlackPerson> };

/** A refusal the person is told about (ephemeral); the row is marked refused and nothing else changes. */
class Refusal extends Error {}

/** What the person is told once it is done; the rest shows for itself (the ticket's message changes). */
const TOLD: ReadonlySet<SlackInboundPayload['kind']> = new Set([
  'command',
  'note',
  'reply_to_customer',
  'create',
  'create_from_message',
]);

export async function applySlackInbound(
  deps: InboundDeps,
  ref: { organizationId: string; integrationId: string; inboundId: string },
): Promise<InboundOutcome> {
  const [row] = await deps.db
    .select()
    .from(slackInbound)
    .where(and(eq(slackInbound.id, ref.inboundId), eq(slackInbound.organizationId, ref.organizationId)));
  if (!row) return { respond: false, ops: [] };
  const payload = row.payload as SlackInboundPayload;
  const answerable = !!(payload.responseUrl || payload.channelId);
  // Applied or refused by an earlier attempt (which may have died before its answer was sent): the same outcome.
  if (row.status === 'applied')
    return { respond: answerable && TOLD.has(payload.kind), ops: opsOf(row.ticketId, payload) };
  if (row.status === 'refused') return { respond: answerable, ops: [] };

  const refuse = async (message: string): Promise<InboundOutcome> => {
    await deps.db
      .update(slackInbound)
      .set({ status: 'refused', outcome: message, appliedAt: sql`now()` })
      .where(and(eq(slackInbound.id, row.id), eq(slackInbound.status, 'received')));
    return { respond: answerable, ops: [] };
  };

  // Removed only: a database failure is retried, not answered as a disconnected workspace.
  const workspace = await findWorkspace(deps, ref.organizationId, ref.integrationId);
  if (!workspace) return refuse('This Slack workspace is no longer connected to Switchboard.');
  if (!workspace.isActive) return refuse('Slack is switched off for this Switchboard organisation.');
  assertConnected(workspace);
  const client = await deps.clients.forWorkspace(workspace);
  let person: SlackPerson;
  let actor: OrgMember | null;
  let extra: Gathered;
  let text: string;
  try {
    person = await slackPerson(deps, client, workspace, payload.slackUserId);
    actor = person.email ? await memberByEmail(deps.db, ref.organizationId, person.email) : null;
    // Read before the transaction: a Slack call inside it would hold the ticket's lock across the network.
    extra = await gather(deps, client, workspace, payload);
    text = await plainText(deps, client, workspace, payload);
  } catch (error) {
    // Slack would not tell us who someone is (user_not_visible, missing_scope): said, and the row is done.
    if (failureTypeOf(error) !== SLACK_REFUSED) throw error;
    return refuse(`Slack did not let Switchboard look you up (${(error as Error).message}).`);
  }

  try {
    const outcome = await deps.db.transaction(async (tx) => {
      const [locked] = await tx
        .select({ status: slackInbound.status })
        .from(slackInbound)
        .where(eq(slackInbound.id, row.id))
        .for('update');
      if (locked?.status !== 'received') return null;
      const result = await apply(
        tx as unknown as Database,
        row.ticketId,
        payload,
        text,
        actor,
        person,
        extra,
        workspace,
      );
      await tx
        .update(slackInbound)
        .set({
          status: 'applied',
          outcome: result.text,
          ticketId: result.ticketId ?? row.ticketId,
          appliedAt: sql`now()`,
        })
        .where(eq(slackInbound.id, row.id));
      return result;
    });
    if (!outcome) return { respond: false, ops: [] };
    return { respond: answerable && outcome.tell, ops: opsOf(row.ticketId, payload) };
  } catch (error) {
    const message =
      error instanceof Refusal
        ? error.message
        : error instanceof RequestError && error.status < 500
          ? error.message
          : null;
    if (message === null) throw error;
    return refuse(message);
  }
}

function failureTypeOf(error: unknown): string | undefined {
  return error instanceof ApplicationFailure ? (error.type ?? undefined) : undefined;
}

/** Only for a row that was applied: a refused "Discuss in DM" must not post the ticket to that person. */
function opsOf(ticketId: string | null, payload: SlackInboundPayload): InboundOutcome['ops'] {
  if (payload.kind !== 'discuss_dm' || !ticketId) return [];
  return [{ op: 'dm_parent', slackUserId: payload.slackUserId }];
}

/** The person's words as they wrote them (Slack sends them escaped, mentions as tokens): common/slack/text.ts. */
async function plainText(
  deps: InboundDeps,
  client: Awaited<ReturnType<InboundDeps['clients']['forWorkspace']>>,
  workspace: SlackWorkspace,
  payload: SlackInboundPayload,
): Promise<string> {
  const raw =
    payload.kind === 'thread_reply' || payload.kind === 'reply_to_customer' || payload.kind === 'create_from_message'
      ? payload.text
      : payload.kind === 'command' && payload.command.kind === 'comment'
        ? payload.command.body
        : '';
  if (!raw) return '';
  return slackTextToPlain(raw, async (id) => (await slackPerson(deps, client, workspace, id)).name);
}

type Gathered = {
  requesterEmail?: string | null;
  requesterName?: string | null;
  permalink?: string | null;
  assignee?: OrgMember | null;
};

async function gather(
  deps: InboundDeps,
  client: Awaited<ReturnType<InboundDeps['clients']['forWorkspace']>>,
  workspace: SlackWorkspace,
  payload: SlackInboundPayload,
): Promise<Gathered> {
  if (payload.kind === 'create_from_message') {
    // The requester is optional: an author Slack will not show us makes a ticket without one.
    const author = payload.authorSlackUserId
      ? await slackPerson(deps, client, workspace, payload.authorSlackUserId).catch((error: unknown) => {
          if (failureTypeOf(error) === SLACK_REFUSED) return null;
          throw error;
        })
      : null;
    const permalink = await client.chat
      .getPermalink({ channel: payload.channelId, message_ts: payload.messageTs })
      .then((r) => r.permalink ?? null)
      .catch(() => null);
    return {
      requesterEmail: author?.isBot ? null : (author?.email ?? null),
      requesterName: author?.name ?? null,
      permalink,
    };
  }
  if (payload.kind === 'command' && payload.command.kind === 'assign') {
    const who = payload.command.assignee;
    if ('slackUserId' in who) {
      const person = await slackPerson(deps, client, workspace, who.slackUserId).catch((error: unknown) => {
        if (failureTypeOf(error) === SLACK_REFUSED) return null;
        throw error;
      });
      return { assignee: person?.email ? await memberByEmail(deps.db, workspace.organizationId, person.email) : null };
    }
    if ('email' in who) return { assignee: await memberByEmail(deps.db, workspace.organizationId, who.email) };
  }
  return {};
}

type Applied = { text: string; tell: boolean; ticketId?: string };

function requireAgent(actor: OrgMember | null, person: SlackPerson): OrgMember {
  if (!actor)
    throw new Refusal(
      person.email
        ? `Your Slack account (${person.email}) is not a member of this Switchboard organisation: ask an admin to invite that address.`
        : 'Slack did not share your email address, so Switchboard cannot tell who you are.',
    );
  if (actor.role === 'viewer')
    throw new Refusal('Your Switchboard role (viewer) can read tickets but not change them.');
  return actor;
}

function scopeOf(organizationId: string, actor: OrgMember): Scope {
  return { organizationId, actor: { type: 'user', id: actor.userId }, userId: actor.userId };
}

async function currentVersion(db: Database, organizationId: string, ticketId: string) {
  const [t] = await db
    .select({ version: supportRequests.version, number: supportRequests.number })
    .from(supportRequests)
    .where(and(eq(supportRequests.id, ticketId), eq(supportRequests.organizationId, organizationId)));
  if (!t) throw new Refusal('That ticket no longer exists.');
  return t;
}

async function apply(
  db: Database,
  ticketId: string | null,
  payload: SlackInboundPayload,
  text: string,
  actor: OrgMember | null,
  person: SlackPerson,
  extra: Gathered,
  workspace: SlackWorkspace,
): Promise<Applied> {
  const org = workspace.organizationId;
  const need = () => {
    if (!ticketId) throw new Refusal('That ticket no longer exists.');
    return ticketId;
  };
  switch (payload.kind) {
    case 'thread_reply': {
      const prefix = workspace.config.publicReplyPrefix ?? '!reply';
      const isPublic = text.trimStart().toLowerCase().startsWith(prefix.toLowerCase());
      const said = isPublic ? text.trimStart().slice(prefix.length).trim() : text;
      // Files shared in the reply are named with their Slack links (the files stay in Slack).
      const files = (payload.files ?? []).map((f) => `${f.name} (${f.permalink})`);
      const body = files.length > 0 ? `${said}${said ? '\n\n' : ''}Files in Slack: ${files.join(', ')}` : said;
      if (isPublic) requireAgent(actor, person);
      if (!body) return { text: 'empty reply ignored', tell: false };
      // A member who may write (agent, admin) writes as themselves; anyone else's reply (a guest, a viewer, a
      // Slack Connect customer) is kept as an internal note under their Slack name, never as theirs in Switchboard.
      const writer = actor && actor.role !== 'viewer' ? actor : null;
      const scope: Scope = writer
        ? scopeOf(org, writer)
        : { organizationId: org, actor: { type: 'integration', id: workspace.integrationId }, userId: null };
      await addComment(
        db,
        scope,
        need(),
        { body, isPublic },
        {
          source: 'slack',
          author: writer ? { userId: writer.userId } : { displayName: `${person.name} (Slack)` },
          externalId: `slack:${workspace.teamId}:${payload.channelId}:${payload.ts}`,
        },
      );
      return { text: isPublic ? 'sent to the customer' : 'added as an internal note', tell: false };
    }
    case 'note': {
      const agent = requireAgent(actor, person);
      const t = await currentVersion(db, org, need());
      await addComment(db, scopeOf(org, agent), need(), { body: payload.body, isPublic: false }, { source: 'slack' });
      return { text: `Internal note added to #${t.number}.`, tell: true };
    }
    case 'reply_to_customer': {
      const agent = requireAgent(actor, person);
      const t = await currentVersion(db, org, need());
      if (!text.trim()) throw new Refusal('That message has no text to send to the customer.');
      // Already sent to the customer when it was written (`!reply`): not sent twice.
      const [sent] = await db
        .select({ id: ticketComments.id })
        .from(ticketComments)
        .where(
          and(
            eq(ticketComments.supportRequestId, need()),
            eq(ticketComments.source, 'slack'),
            eq(ticketComments.externalId, `slack:${workspace.teamId}:${payload.channelId}:${payload.messageTs}`),
            eq(ticketComments.isPublic, true),
          ),
        );
      if (sent) return { text: `That reply already went to the customer of #${t.number}.`, tell: true };
      await addComment(
        db,
        scopeOf(org, agent),
        need(),
        { body: text, isPublic: true },
        { source: 'slack', externalId: `slack-public:${workspace.teamId}:${payload.channelId}:${payload.messageTs}` },
      );
      return { text: `Sent to the customer of #${t.number}.`, tell: true };
    }
    case 'assign_me': {
      const agent = requireAgent(actor, person);
      const t = await currentVersion(db, org, need());
      await updateTicket(db, scopeOf(org, agent), need(), { version: t.version, assigneeId: agent.userId });
      return { text: `#${t.number} is assigned to you.`, tell: false };
    }
    case 'set_status': {
      const agent = requireAgent(actor, person);
      const t = await currentVersion(db, org, need());
      await updateTicket(db, scopeOf(org, agent), need(), {
        version: t.version,
        status: payload.status as TicketStatus,
      });
      return { text: `#${t.number} is now ${payload.status}.`, tell: false };
    }
    case 'discuss_dm': {
      requireAgent(actor, person);
      return { text: 'private discussion opened in a DM', tell: false };
    }
    case 'command': {
      const agent = requireAgent(actor, person);
      const t = await currentVersion(db, org, need());
      const command = payload.command;
      if (command.kind === 'update') {
        await updateTicket(db, scopeOf(org, agent), need(), { version: t.version, ...command.changes });
        const what = Object.entries(command.changes)
          .map(([field, value]) => `${field} ${value}`)
          .join(', ');
        return { text: `#${t.number} updated: ${what}.`, tell: true };
      }
      if (command.kind === 'assign') {
        const assignee = 'me' in command.assignee ? agent : extra.assignee;
        if (!assignee)
          throw new Refusal(
            'That person is not a member of this Switchboard organisation (matched by email), or Slack would not show who they are.',
          );
        await updateTicket(db, scopeOf(org, agent), need(), { version: t.version, assigneeId: assignee.userId });
        return { text: `#${t.number} is assigned to ${escapeMrkdwn(assignee.name)}.`, tell: true };
      }
      const prefix = workspace.config.publicReplyPrefix ?? '!reply';
      const isPublic = text.toLowerCase().startsWith(prefix.toLowerCase());
      const body = isPublic ? text.slice(prefix.length).trim() : text;
      if (!body) throw new Refusal('The comment is empty.');
      await addComment(db, scopeOf(org, agent), need(), { body, isPublic }, { source: 'slack' });
      return {
        text: `${isPublic ? 'Reply sent to the customer' : 'Internal note added'} on #${t.number}.`,
        tell: true,
      };
    }
    case 'create': {
      const agent = requireAgent(actor, person);
      const created = await createTicket(db, scopeOf(org, agent), {
        subject: payload.subject,
        description: payload.description,
        priority: payload.priority,
        channel: 'slack',
        ...(payload.requesterEmail ? { requesterEmail: payload.requesterEmail } : {}),
      });
      return { text: `Created ticket #${created.number}.`, tell: true, ticketId: created.id };
    }
    case 'create_from_message': {
      const agent = requireAgent(actor, person);
      const said = text.trim() || '(empty message)';
      const firstLine = said.split('\n')[0]!.slice(0, 120);
      const link = extra.permalink ? `\n\nFrom Slack: ${extra.permalink}` : '';
      const created = await createTicket(db, scopeOf(org, agent), {
        subject: firstLine,
        description: `${said}${link}`.slice(0, 65_535),
        channel: 'slack',
        ...(extra.requesterEmail
          ? {
              requesterEmail: extra.requesterEmail,
              ...(extra.requesterName ? { requesterName: extra.requesterName } : {}),
            }
          : {}),
      });
      return { text: `Created ticket #${created.number} from the message.`, tell: true, ticketId: created.id };
    }
  }
}
