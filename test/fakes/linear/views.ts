// Store records as Linear's GraphQL types. Each view carries the fields the fake models; a field the schema
// declares but a view lacks resolves to null when the schema allows it and fails loudly otherwise (see
// fakeFieldResolver), so a query that needs something unmodelled shows up as a gap instead of a made-up value.
//
// The constant defaults below are the non-null fields the SDK's own fragments ask for that the fake has no
// behaviour behind (a team's cycle settings, an organization's feature flags): each is the value a fresh Linear
// workspace reports.
import { defaultFieldResolver, GraphQLError, type GraphQLFieldResolver, isNonNullType } from 'graphql';
import type { FakeContext } from './context.ts';
import type {
  AttachmentRecord,
  CommentRecord,
  IssueRecord,
  LabelRecord,
  LinearStore,
  TeamRecord,
  UserRecord,
  WebhookRecord,
  WorkflowStateRecord,
} from './store.ts';
import { priorityLabel, slugify } from './store.ts';

type View = Record<string, unknown> & { __typename: string };
type ConnectionArgs = {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  includeArchived?: boolean | null;
  orderBy?: 'createdAt' | 'updatedAt' | null;
  filter?: Record<string, unknown> | null;
};

/** Field resolver for every type: the view's value when it has one; null or a loud "not modelled" error otherwise. */
export const fakeFieldResolver: GraphQLFieldResolver<unknown, FakeContext> = (source, args, context, info) => {
  if (source !== null && typeof source === 'object' && Object.hasOwn(source, info.fieldName)) {
    return defaultFieldResolver(source, args, context, info);
  }
  if (isNonNullType(info.returnType)) {
    const gap = `${info.parentType.name}.${info.fieldName}`;
    context.reportGap(gap);
    throw new GraphQLError(`The Linear fake does not model ${gap}`, { extensions: { code: 'FAKE_NOT_MODELLED' } });
  }
  return null;
};

const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

/** Relay-style connection with Linear's defaults: 50 per page, oldest first, archived records left out. */
export function connection<T extends { id: string; createdAt: Date; updatedAt: Date }>(
  typename: string,
  records: Iterable<T>,
  args: ConnectionArgs,
  toView: (record: T) => View,
  filter?: (view: View) => boolean,
  isArchived: (record: T) => boolean = (r) => Boolean((r as { archivedAt?: Date | null }).archivedAt),
): View {
  const orderKey = args.orderBy ?? 'createdAt';
  let items = [...records]
    .filter((r) => args.includeArchived || !isArchived(r))
    .sort((a, b) => a[orderKey].getTime() - b[orderKey].getTime() || a.id.localeCompare(b.id))
    .map((record) => ({ record, view: toView(record) }))
    .filter(({ view }) => (filter ? filter(view) : true));
  let startIndex = 0;
  if (args.after) {
    const at = items.findIndex((i) => i.record.id === args.after);
    startIndex = at + 1;
    items = items.slice(startIndex);
  }
  if (args.before) {
    const at = items.findIndex((i) => i.record.id === args.before);
    if (at >= 0) items = items.slice(0, at);
  }
  const beforeSlice = items.length;
  if (args.first != null) items = items.slice(0, args.first);
  else if (args.last != null) items = items.slice(Math.max(0, items.length - args.last));
  else items = items.slice(0, 50);
  const firstId = items[0]?.record.id ?? null;
  const lastId = items[items.length - 1]?.record.id ?? null;
  const edgeType = typename.replace(/Connection$/, 'Edge');
  return {
    __typename: typename,
    nodes: items.map((i) => i.view),
    edges: items.map((i) => ({ __typename: edgeType, node: i.view, cursor: i.record.id })),
    pageInfo: {
      __typename: 'PageInfo',
      startCursor: firstId,
      endCursor: lastId,
      hasNextPage: args.last == null && items.length < beforeSlice,
      hasPreviousPage: startIndex > 0 || (args.last != null && items.length < beforeSlice),
    },
  };
}

export class Views {
  private readonly store: LinearStore;
  private readonly context: FakeContext;
  private readonly applyFilter: (view: View, filter: Record<string, unknown> | null | undefined) => boolean;

  constructor(
    store: LinearStore,
    context: FakeContext,
    applyFilter: (view: View, filter: Record<string, unknown> | null | undefined) => boolean,
  ) {
    this.store = store;
    this.context = context;
    this.applyFilter = applyFilter;
  }

  private filtered(args: ConnectionArgs): ((view: View) => boolean) | undefined {
    return args.filter ? (view) => this.applyFilter(view, args.filter) : undefined;
  }

  organization(): View {
    const org = this.store.organization;
    return {
      __typename: 'Organization',
      id: org.id,
      name: org.name,
      urlKey: org.urlKey,
      createdAt: iso(org.createdAt),
      updatedAt: iso(org.updatedAt),
      userCount: [...this.store.users.values()].filter((u) => u.active && !u.app).length,
      createdIssueCount: this.store.issues.size,
      teams: (args: ConnectionArgs) => this.teams(args),
      users: (args: ConnectionArgs) => this.users(args),
      labels: (args: ConnectionArgs) => this.labels(args, () => true),
      // A fresh workspace's settings, reported because the SDK's Organization fragment asks for them.
      aiDiscussionSummariesEnabled: false,
      aiThreadSummariesEnabled: false,
      allowedAuthServices: [],
      authSettings: {},
      customerCount: 0,
      customersConfiguration: {},
      customersEnabled: false,
      feedEnabled: false,
      fiscalYearStartMonth: 0,
      gitLinkbackDescriptionsEnabled: false,
      gitLinkbackMessagesEnabled: true,
      gitPublicLinkbackMessagesEnabled: false,
      hideNonPrimaryOrganizations: false,
      hipaaComplianceEnabled: false,
      initiativeUpdateRemindersDay: 'Friday',
      initiativeUpdateRemindersHour: 14,
      periodUploadVolume: 0,
      previousUrlKeys: [],
      projectStatuses: [],
      projectUpdateRemindersDay: 'Friday',
      projectUpdateRemindersHour: 14,
      projectUpdatesReminderFrequency: 'never',
      pullRequestIssueMode: 'default',
      pullRequestTourEnabled: false,
      releaseChannel: 'public',
      releasesEnabled: false,
      roadmapEnabled: false,
      samlEnabled: false,
      scimEnabled: false,
      securitySettings: {},
      slaDayCount: 'all',
      slackProjectChannelPrefix: 'proj',
    };
  }

  user(user: UserRecord): View {
    return {
      __typename: 'User',
      id: user.id,
      name: user.name,
      displayName: user.displayName,
      email: user.email,
      active: user.active,
      admin: user.admin,
      app: user.app,
      avatarUrl: user.avatarUrl,
      createdAt: iso(user.createdAt),
      updatedAt: iso(user.updatedAt),
      url: `${this.store.webUrl}/${this.store.organization.urlKey}/profiles/${user.displayName}`,
      isMe: user.id === this.context.viewer().id,
      initials: user.name
        .split(/\s+/)
        .map((part) => part[0] ?? '')
        .join('')
        .slice(0, 2)
        .toUpperCase(),
      avatarBackgroundColor: '#5e6ad2',
      createdIssueCount: [...this.store.issues.values()].filter((i) => i.creatorId === user.id).length,
      guest: false,
      owner: user.admin,
      isAssignable: user.active,
      isMentionable: user.active,
      supportsAgentSessions: false,
      canAccessAnyPublicTeam: true,
      inviteHash: '',
      assignedIssues: (args: ConnectionArgs) =>
        this.issues(
          [...this.store.issues.values()].filter((i) => i.assigneeId === user.id),
          args,
        ),
      teams: (args: ConnectionArgs) =>
        this.teams(
          args,
          [...this.store.teams.values()].filter((t) => t.memberIds.includes(user.id)),
        ),
      organization: () => this.organization(),
    };
  }

  users(args: ConnectionArgs, records: Iterable<UserRecord> = this.store.users.values()): View {
    return connection(
      'UserConnection',
      records,
      args,
      (u) => this.user(u),
      this.filtered(args),
      (u) => !u.active,
    );
  }

  team(team: TeamRecord): View {
    return {
      __typename: 'Team',
      id: team.id,
      key: team.key,
      name: team.name,
      displayName: team.name,
      description: team.description,
      createdAt: iso(team.createdAt),
      updatedAt: iso(team.updatedAt),
      issueCount: [...this.store.issues.values()].filter((i) => i.teamId === team.id && !i.archivedAt).length,
      private: false,
      visibility: 'public',
      timezone: 'Etc/UTC',
      states: (args: ConnectionArgs) =>
        connection(
          'WorkflowStateConnection',
          this.store.teamStates(team.id),
          args,
          (s) => this.workflowState(s),
          this.filtered(args),
        ),
      members: (args: ConnectionArgs) =>
        this.users(
          args,
          team.memberIds.map((id) => this.store.users.get(id)).filter((u): u is UserRecord => Boolean(u)),
        ),
      labels: (args: ConnectionArgs) => this.labels(args, (l) => l.teamId === team.id || l.teamId === null),
      issues: (args: ConnectionArgs) =>
        this.issues(
          [...this.store.issues.values()].filter((i) => i.teamId === team.id),
          args,
        ),
      webhooks: (args: ConnectionArgs) =>
        connection(
          'WebhookConnection',
          [...this.store.webhooks.values()].filter((w) => w.teamId === team.id),
          args,
          (w) => this.webhook(w),
        ),
      organization: () => this.organization(),
      // A new team's settings, reported because the SDK's Team fragment asks for them.
      aiDiscussionSummariesEnabled: false,
      aiThreadSummariesEnabled: false,
      autoArchivePeriod: 6,
      cycleCalenderUrl: '',
      cycleCooldownTime: 0,
      cycleDuration: 2,
      cycleIssueAutoAssignCompleted: false,
      cycleIssueAutoAssignStarted: false,
      cycleLockToActive: false,
      cycleStartDay: 1,
      cyclesEnabled: false,
      defaultIssueEstimate: 1,
      groupIssueHistory: true,
      inheritIssueEstimation: false,
      inheritWorkflowStatuses: false,
      inviteHash: '',
      issueEstimationAllowZero: false,
      issueEstimationExtended: false,
      issueEstimationType: 'notUsed',
      issueOrderingNoPriorityFirst: false,
      issueSortOrderDefaultToBottom: false,
      ledInitiativeCount: 0,
      requirePriorityToLeaveTriage: false,
      scimManaged: false,
      securitySettings: {},
      setIssueSortOrderOnStateChange: 'default',
      slackIssueComments: false,
      slackIssueStatuses: false,
      slackNewIssue: false,
      triageEnabled: false,
      upcomingCycleCount: 2,
    };
  }

  teams(args: ConnectionArgs, records: Iterable<TeamRecord> = this.store.teams.values()): View {
    return connection('TeamConnection', records, args, (t) => this.team(t), this.filtered(args));
  }

  workflowState(state: WorkflowStateRecord): View {
    return {
      __typename: 'WorkflowState',
      id: state.id,
      name: state.name,
      type: state.type,
      color: state.color,
      position: state.position,
      description: null,
      createdAt: iso(state.createdAt),
      updatedAt: iso(state.updatedAt),
      team: () => this.team(this.store.team(state.teamId)),
      issues: (args: ConnectionArgs) =>
        this.issues(
          [...this.store.issues.values()].filter((i) => i.stateId === state.id),
          args,
        ),
    };
  }

  label(label: LabelRecord): View {
    return {
      __typename: 'IssueLabel',
      id: label.id,
      name: label.name,
      color: label.color,
      description: null,
      isGroup: false,
      createdAt: iso(label.createdAt),
      updatedAt: iso(label.updatedAt),
      team: () => (label.teamId ? this.team(this.store.team(label.teamId)) : null),
      organization: () => this.organization(),
    };
  }

  labels(args: ConnectionArgs, include: (label: LabelRecord) => boolean): View {
    return connection(
      'IssueLabelConnection',
      [...this.store.labels.values()].filter(include),
      args,
      (l) => this.label(l),
      this.filtered(args),
    );
  }

  issue(issue: IssueRecord): View {
    const store = this.store;
    const identifier = store.identifier(issue);
    const userOrNull = (id: string | null) => {
      const user = id ? store.users.get(id) : undefined;
      return user ? this.user(user) : null;
    };
    return {
      __typename: 'Issue',
      id: issue.id,
      identifier,
      number: issue.number,
      title: issue.title,
      description: issue.description,
      priority: issue.priority,
      priorityLabel: priorityLabel(issue.priority),
      url: store.issueUrl(issue),
      branchName: `${identifier.toLowerCase()}-${slugify(issue.title)}`,
      createdAt: iso(issue.createdAt),
      updatedAt: iso(issue.updatedAt),
      archivedAt: iso(issue.archivedAt),
      trashed: issue.trashed,
      startedAt: iso(issue.startedAt),
      completedAt: iso(issue.completedAt),
      canceledAt: iso(issue.canceledAt),
      dueDate: issue.dueDate,
      estimate: issue.estimate,
      labelIds: issue.labelIds,
      sortOrder: issue.sortOrder,
      boardOrder: issue.sortOrder,
      prioritySortOrder: issue.sortOrder,
      subIssueSortOrder: null,
      customerTicketCount: 0,
      previousIdentifiers: [],
      reactionData: {},
      reactions: [],
      inheritsSharedAccess: false,
      sharedAccess: {
        __typename: 'IssueSharedAccess',
        disallowedIssueFields: [],
        isShared: false,
        sharedWithCount: 0,
        sharedWithUsers: [],
        viewerHasOnlySharedAccess: false,
      },
      team: () => this.team(store.team(issue.teamId)),
      state: () => this.workflowState(store.workflowState(issue.stateId)),
      assignee: () => userOrNull(issue.assigneeId),
      creator: () => userOrNull(issue.creatorId),
      labels: (args: ConnectionArgs) => this.labels(args, (l) => issue.labelIds.includes(l.id)),
      comments: (args: ConnectionArgs) =>
        connection(
          'CommentConnection',
          store.issueComments(issue.id),
          args,
          (c) => this.comment(c),
          this.filtered(args),
        ),
      attachments: (args: ConnectionArgs) =>
        connection(
          'AttachmentConnection',
          store.issueAttachments(issue.id),
          args,
          (a) => this.attachment(a),
          this.filtered(args),
        ),
    };
  }

  issues(records: Iterable<IssueRecord>, args: ConnectionArgs): View {
    return connection('IssueConnection', records, args, (i) => this.issue(i), this.filtered(args));
  }

  comment(comment: CommentRecord): View {
    const store = this.store;
    const issue = store.issues.get(comment.issueId);
    return {
      __typename: 'Comment',
      id: comment.id,
      body: comment.body,
      createdAt: iso(comment.createdAt),
      updatedAt: iso(comment.updatedAt),
      editedAt: iso(comment.editedAt),
      archivedAt: iso(comment.archivedAt),
      url: issue ? `${store.issueUrl(issue)}#comment-${comment.id.slice(0, 8)}` : '',
      reactionData: {},
      reactions: [],
      issueId: comment.issueId,
      parentId: comment.parentId,
      userId: comment.userId,
      issue: () => (issue ? this.issue(issue) : null),
      user: () => {
        const user = comment.userId ? store.users.get(comment.userId) : undefined;
        return user ? this.user(user) : null;
      },
      parent: () => (comment.parentId ? this.comment(store.comment(comment.parentId)) : null),
    };
  }

  attachment(attachment: AttachmentRecord): View {
    const store = this.store;
    return {
      __typename: 'Attachment',
      id: attachment.id,
      url: attachment.url,
      title: attachment.title,
      subtitle: attachment.subtitle,
      metadata: attachment.metadata,
      groupBySource: false,
      sourceType: null,
      createdAt: iso(attachment.createdAt),
      updatedAt: iso(attachment.updatedAt),
      issue: () => this.issue(store.issue(attachment.issueId)),
      creator: () => {
        const user = attachment.creatorId ? store.users.get(attachment.creatorId) : undefined;
        return user ? this.user(user) : null;
      },
    };
  }

  webhook(webhook: WebhookRecord): View {
    return {
      __typename: 'Webhook',
      id: webhook.id,
      url: webhook.url,
      label: webhook.label,
      enabled: webhook.enabled,
      // Linear only reveals the secret to admins; every token in the fake may see it.
      secret: webhook.secret,
      resourceTypes: webhook.resourceTypes,
      allPublicTeams: webhook.allPublicTeams,
      teamIds: webhook.teamId ? [webhook.teamId] : null,
      createdAt: iso(webhook.createdAt),
      updatedAt: iso(webhook.updatedAt),
      failures: [],
      team: () => (webhook.teamId ? this.team(this.store.team(webhook.teamId)) : null),
      creator: () => {
        const user = webhook.creatorId ? this.store.users.get(webhook.creatorId) : undefined;
        return user ? this.user(user) : null;
      },
    };
  }
}
