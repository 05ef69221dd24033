// Root Query and Mutation fields the fake serves, backed by the store. Root fields it does not serve fall through
// to fakeFieldResolver and fail with "does not model Query.x", so an integration reaching for more of Linear's
// API finds out in its first test run.
import type { FakeContext } from './context.ts';
import { matchesFilter } from './filters.ts';
import { FakeLinearError, type IssueChanges, type IssueRecord, NotModelledError } from './store.ts';
import { connection, Views } from './views.ts';

type Args = Record<string, unknown>;
type Input = Record<string, unknown>;
type Root = Record<string, (args: Args) => unknown>;

/** Fields of an input object the fake applies; any other field sent with a value is a gap and fails loudly. */
function pick<T extends string>(
  inputType: string,
  input: Input,
  handled: readonly T[],
  ignored: readonly string[] = [],
) {
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    if (!(handled as readonly string[]).includes(key) && !ignored.includes(key))
      throw new NotModelledError(`${inputType}.${key}`);
  }
  return input as Partial<Record<T, unknown>>;
}

const ISSUE_FIELDS = [
  'title',
  'description',
  'priority',
  'stateId',
  'assigneeId',
  'labelIds',
  'dueDate',
  'estimate',
  'sortOrder',
] as const;
// Presentation-only inputs Linear accepts from apps (the "created as" name and icon); they change nothing the
// integration reads back, so the fake accepts and drops them.
const PRESENTATION_ONLY = ['createAsUser', 'displayIconUrl'];

function issueChanges(input: Partial<Record<string, unknown>>): IssueChanges {
  const changes: IssueChanges = {};
  for (const key of ISSUE_FIELDS) {
    if (input[key] !== undefined) (changes as Record<string, unknown>)[key] = input[key];
  }
  return changes;
}

export function createRoots(context: FakeContext): { query: Root; mutation: Root } {
  const store = context.store;
  const views = new Views(store, context, matchesFilter);
  const actor = () => context.credential.userId;
  const success = <T extends object>(typename: string, extra: T) => ({
    __typename: typename,
    success: true,
    lastSyncId: store.lastSyncId,
    ...extra,
  });

  const query: Root = {
    viewer: () => views.user(context.viewer()),
    organization: () => views.organization(),
    teams: (args) => views.teams(args),
    team: ({ id }) => {
      const team = store.teams.get(String(id)) ?? store.teamByKey(String(id));
      if (!team) throw new FakeLinearError('not-found', 'Team');
      return views.team(team);
    },
    users: (args) => views.users(args),
    user: ({ id }) => {
      const user = store.users.get(String(id));
      if (!user) throw new FakeLinearError('not-found', 'User');
      return views.user(user);
    },
    issue: ({ id }) => views.issue(store.issue(String(id))),
    issues: (args) => views.issues(store.issues.values(), args),
    comment: ({ id }) => {
      if (typeof id !== 'string') throw new NotModelledError('finding a comment by hash');
      return views.comment(store.comment(id));
    },
    comments: (args) =>
      connection(
        'CommentConnection',
        store.comments.values(),
        args,
        (c) => views.comment(c),
        (v) => matchesFilter(v, args.filter as Input | undefined),
      ),
    attachment: ({ id }) => {
      const attachment = store.attachments.get(String(id));
      if (!attachment) throw new FakeLinearError('not-found', 'Attachment');
      return views.attachment(attachment);
    },
    attachments: (args) =>
      connection(
        'AttachmentConnection',
        store.attachments.values(),
        args,
        (a) => views.attachment(a),
        (v) => matchesFilter(v, args.filter as Input | undefined),
      ),
    attachmentsForURL: (args) =>
      connection(
        'AttachmentConnection',
        [...store.attachments.values()].filter((a) => a.url === args.url),
        args,
        (a) => views.attachment(a),
      ),
    issueLabels: (args) => views.labels(args, () => true),
    issueLabel: ({ id }) => {
      const label = store.labels.get(String(id));
      if (!label) throw new FakeLinearError('not-found', 'IssueLabel');
      return views.label(label);
    },
    workflowStates: (args) =>
      connection(
        'WorkflowStateConnection',
        store.states.values(),
        args,
        (s) => views.workflowState(s),
        (v) => matchesFilter(v, args.filter as Input | undefined),
      ),
    workflowState: ({ id }) => views.workflowState(store.workflowState(String(id))),
    webhooks: (args) => {
      context.requireScope(['admin']);
      return connection('WebhookConnection', store.webhooks.values(), args, (w) => views.webhook(w));
    },
    webhook: ({ id }) => {
      context.requireScope(['admin']);
      const webhook = store.webhooks.get(String(id));
      if (!webhook) throw new FakeLinearError('not-found', 'Webhook');
      return views.webhook(webhook);
    },
    rateLimitStatus: () => {
      const budget = context.rateLimit();
      return {
        __typename: 'RateLimitPayload',
        identifier: context.credential.kind === 'api-key' ? 'api key' : 'oauth token',
        kind: context.credential.kind === 'api-key' ? 'api' : 'oauth',
        limits: [
          {
            __typename: 'RateLimitResultPayload',
            type: 'requestLimit',
            allowedAmount: budget.limit,
            period: budget.periodMs,
            remainingAmount: budget.remaining,
            requestedAmount: 1,
            reset: budget.resetAt,
          },
        ],
      };
    },
  };

  const mutation: Root = {
    issueCreate: ({ input }) => {
      context.requireScope(['write', 'issues:create']);
      const fields = pick(
        'IssueCreateInput',
        input as Input,
        [...ISSUE_FIELDS, 'teamId', 'id', 'createdAt'],
        PRESENTATION_ONLY,
      );
      const issue = store.createIssue(
        {
          ...issueChanges(fields),
          teamId: String(fields.teamId),
          id: fields.id as string | undefined,
          createdAt: fields.createdAt ? new Date(String(fields.createdAt)) : undefined,
        },
        actor(),
      );
      return success('IssuePayload', { issue: views.issue(issue) });
    },
    issueUpdate: ({ id, input }) => {
      context.requireScope(['write']);
      const fields = pick('IssueUpdateInput', input as Input, [
        ...ISSUE_FIELDS,
        'teamId',
        'trashed',
        'addedLabelIds',
        'removedLabelIds',
      ]);
      const current: IssueRecord = store.issue(String(id));
      const changes = issueChanges(fields);
      if (fields.teamId !== undefined) changes.teamId = String(fields.teamId);
      if (fields.trashed !== undefined) changes.trashed = Boolean(fields.trashed);
      if (fields.addedLabelIds || fields.removedLabelIds) {
        const removed = new Set((fields.removedLabelIds as string[] | undefined) ?? []);
        const base = (changes.labelIds ?? current.labelIds).filter((l) => !removed.has(l));
        changes.labelIds = [...new Set([...base, ...((fields.addedLabelIds as string[] | undefined) ?? [])])];
      }
      const issue = store.updateIssue(current.id, changes, actor());
      return success('IssuePayload', { issue: views.issue(issue) });
    },
    issueDelete: ({ id, permanentlyDelete }) => {
      context.requireScope(['write']);
      const issue = permanentlyDelete ? store.purgeIssue(String(id), actor()) : store.trashIssue(String(id), actor());
      return success('IssueArchivePayload', { entity: permanentlyDelete ? null : views.issue(issue) });
    },
    issueArchive: ({ id }) => {
      context.requireScope(['write']);
      return success('IssueArchivePayload', { entity: views.issue(store.archiveIssue(String(id), actor())) });
    },
    commentCreate: ({ input }) => {
      context.requireScope(['write', 'comments:create']);
      const fields = pick(
        'CommentCreateInput',
        input as Input,
        ['issueId', 'body', 'parentId', 'id', 'createdAt'],
        [...PRESENTATION_ONLY, 'doNotSubscribeToIssue'],
      );
      if (!fields.issueId) throw new NotModelledError('comments on anything but issues');
      if (typeof fields.body !== 'string' || fields.body.trim() === '')
        throw new FakeLinearError('invalid-input', 'body must not be empty');
      const comment = store.createComment(
        {
          issueId: String(fields.issueId),
          body: fields.body,
          parentId: (fields.parentId as string | undefined) ?? null,
          id: fields.id as string | undefined,
          createdAt: fields.createdAt ? new Date(String(fields.createdAt)) : undefined,
        },
        actor(),
      );
      return success('CommentPayload', { comment: views.comment(comment) });
    },
    commentUpdate: ({ id, input }) => {
      context.requireScope(['write']);
      const fields = pick('CommentUpdateInput', input as Input, ['body'], ['doNotSubscribeToIssue']);
      const existing = store.comment(String(id));
      if (existing.userId !== actor()) throw new FakeLinearError('invalid-input', 'Only the author can edit a comment');
      const comment = store.updateComment(existing.id, { body: fields.body as string | undefined }, actor());
      return success('CommentPayload', { comment: views.comment(comment) });
    },
    commentDelete: ({ id }) => {
      context.requireScope(['write']);
      const comment = store.deleteComment(String(id), actor());
      return success('DeletePayload', { entityId: comment.id });
    },
    attachmentCreate: ({ input }) => {
      context.requireScope(['write', 'issues:create']);
      const fields = pick(
        'AttachmentCreateInput',
        input as Input,
        ['issueId', 'url', 'title', 'subtitle', 'metadata', 'iconUrl', 'id'],
        PRESENTATION_ONLY,
      );
      const attachment = store.upsertAttachment(
        {
          issueId: String(fields.issueId),
          url: String(fields.url),
          title: String(fields.title),
          subtitle: fields.subtitle as string | undefined,
          metadata: fields.metadata as Record<string, unknown> | undefined,
          iconUrl: fields.iconUrl as string | undefined,
          id: fields.id as string | undefined,
        },
        actor(),
      );
      return success('AttachmentPayload', { attachment: views.attachment(attachment) });
    },
    attachmentLinkURL: (args) => {
      context.requireScope(['write', 'issues:create']);
      const fields = pick('attachmentLinkURL', args, ['issueId', 'url', 'title', 'id'], PRESENTATION_ONLY);
      const attachment = store.upsertAttachment(
        {
          issueId: String(fields.issueId),
          url: String(fields.url),
          title: (fields.title as string | undefined) ?? String(fields.url),
          id: fields.id as string | undefined,
        },
        actor(),
      );
      return success('AttachmentPayload', { attachment: views.attachment(attachment) });
    },
    attachmentDelete: ({ id }) => {
      context.requireScope(['write']);
      const attachment = store.deleteAttachment(String(id), actor());
      return success('DeletePayload', { entityId: attachment.id });
    },
    webhookCreate: ({ input }) => {
      context.requireScope(['admin']);
      const fields = pick('WebhookCreateInput', input as Input, [
        'url',
        'secret',
        'label',
        'enabled',
        'resourceTypes',
        'teamId',
        'allPublicTeams',
      ]);
      const webhook = store.addWebhook({
        url: String(fields.url),
        secret: fields.secret as string | undefined,
        label: fields.label as string | undefined,
        enabled: fields.enabled as boolean | undefined,
        resourceTypes: fields.resourceTypes as string[],
        teamId: fields.teamId as string | undefined,
        allPublicTeams: fields.allPublicTeams as boolean | undefined,
        creatorId: actor(),
      });
      return success('WebhookPayload', { webhook: views.webhook(webhook) });
    },
    webhookDelete: ({ id }) => {
      context.requireScope(['admin']);
      const webhook = store.deleteWebhook(String(id));
      return success('DeletePayload', { entityId: webhook.id });
    },
  };
  return { query, mutation };
}
