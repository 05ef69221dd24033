// The fake Linear workspace's data: plain records, the way Linear's database would hold them. Everything that
// reads or changes data (the GraphQL resolvers, the test API, webhooks) goes through this module so that an
// issue looks the same whichever way it was touched.
import { randomUUID } from 'node:crypto';

export type WorkflowStateType = 'triage' | 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled';

export interface OrganizationRecord {
  id: string;
  name: string;
  urlKey: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserRecord {
  id: string;
  name: string;
  displayName: string;
  email: string;
  active: boolean;
  admin: boolean;
  /** An OAuth application acting as itself (`actor=app`): Linear models it as a user with `app: true`. */
  app: boolean;
  avatarUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface TeamRecord {
  id: string;
  key: string;
  name: string;
  description: string | null;
  memberIds: string[];
  issueCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface WorkflowStateRecord {
  id: string;
  teamId: string;
  name: string;
  type: WorkflowStateType;
  color: string;
  position: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface LabelRecord {
  id: string;
  /** Null for a workspace label, available to every team. */
  teamId: string | null;
  name: string;
  color: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface IssueRecord {
  id: string;
  teamId: string;
  number: number;
  title: string;
  description: string | null;
  priority: number;
  stateId: string;
  assigneeId: string | null;
  creatorId: string | null;
  labelIds: string[];
  dueDate: string | null;
  estimate: number | null;
  sortOrder: number;
  createdAt: Date;
  updatedAt: Date;
  archivedAt: Date | null;
  trashed: boolean;
  startedAt: Date | null;
  completedAt: Date | null;
  canceledAt: Date | null;
}

export interface CommentRecord {
  id: string;
  issueId: string;
  body: string;
  userId: string | null;
  parentId: string | null;
  createdAt: Date;
  updatedAt: Date;
  editedAt: Date | null;
  archivedAt: Date | null;
}

export interface AttachmentRecord {
  id: string;
  issueId: string;
  url: string;
  title: string;
  subtitle: string | null;
  metadata: Record<string, unknown>;
  iconUrl: string | null;
  creatorId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookRecord {
  id: string;
  url: string;
  secret: string;
  label: string | null;
  enabled: boolean;
  resourceTypes: string[];
  teamId: string | null;
  allPublicTeams: boolean;
  creatorId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A change to the workspace, as Linear reports it in a webhook: what, which action, and the fields' previous values. */
export interface StoreChange {
  type: 'Issue' | 'Comment' | 'Attachment';
  action: 'create' | 'update' | 'remove';
  id: string;
  /** Previous values of the fields that changed (updates only), keyed by Linear's webhook field names. */
  updatedFrom?: Record<string, unknown>;
  /** The user who made the change. */
  actorId: string | null;
  /** A snapshot of the record taken when the change happened (removals keep what was removed). */
  snapshot: IssueRecord | CommentRecord | AttachmentRecord;
}

export type IssueChanges = Partial<
  Pick<
    IssueRecord,
    | 'title'
    | 'description'
    | 'priority'
    | 'stateId'
    | 'assigneeId'
    | 'labelIds'
    | 'dueDate'
    | 'estimate'
    | 'teamId'
    | 'trashed'
    | 'sortOrder'
  >
>;

export class FakeLinearError extends Error {
  readonly kind: 'not-found' | 'invalid-input';
  constructor(kind: 'not-found' | 'invalid-input', message: string) {
    super(message);
    this.kind = kind;
  }
}

/** The request used a part of Linear's API (an input field, a filter) that the fake has no behaviour for. */
export class NotModelledError extends Error {
  readonly what: string;
  constructor(what: string) {
    super(`The Linear fake does not model ${what}`);
    this.what = what;
  }
}

const PRIORITY_LABELS = ['No priority', 'Urgent', 'High', 'Medium', 'Low'];
export function priorityLabel(priority: number): string {
  return PRIORITY_LABELS[priority] ?? 'No priority';
}

/** Linear's own slug of an issue title, used in issue URLs and branch names. */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}

export class LinearStore {
  readonly organization: OrganizationRecord;
  readonly users = new Map<string, UserRecord>();
  readonly teams = new Map<string, TeamRecord>();
  readonly states = new Map<string, WorkflowStateRecord>();
  readonly labels = new Map<string, LabelRecord>();
  readonly issues = new Map<string, IssueRecord>();
  readonly comments = new Map<string, CommentRecord>();
  readonly attachments = new Map<string, AttachmentRecord>();
  readonly webhooks = new Map<string, WebhookRecord>();
  /** Bumped on every write; Linear returns it as `lastSyncId` in mutation payloads. */
  lastSyncId = 1000;
  readonly webUrl: string;
  private readonly listeners: Array<(change: StoreChange) => void> = [];
  /** Monotonic clock: two writes in the same millisecond still get ordered `updatedAt`s, which sync logic compares. */
  private lastTime = 0;

  constructor(options: { organizationName?: string; urlKey?: string; webUrl?: string } = {}) {
    const now = this.now();
    this.organization = {
      id: randomUUID(),
      name: options.organizationName ?? 'Acme',
      urlKey: options.urlKey ?? 'acme',
      createdAt: now,
      updatedAt: now,
    };
    this.webUrl = (options.webUrl ?? 'https://linear.app').replace(/\/$/, '');
  }

  now(): Date {
    const t = Math.max(Date.now(), this.lastTime + 1);
    this.lastTime = t;
    return new Date(t);
  }

  onChange(listener: (change: StoreChange) => void): void {
    this.listeners.push(listener);
  }

  private emit(change: StoreChange): void {
    this.lastSyncId += 1;
    for (const listener of this.listeners) listener(change);
  }

  // ---- seeding (no webhooks: this is the workspace as it existed before the test) ----

  addUser(input: Partial<UserRecord> & { name: string; email: string }): UserRecord {
    const now = this.now();
    const user: UserRecord = {
      id: randomUUID(),
      displayName: input.name.split(' ')[0]?.toLowerCase() ?? input.name,
      active: true,
      admin: false,
      app: false,
      avatarUrl: null,
      createdAt: now,
      updatedAt: now,
      ...input,
    };
    this.users.set(user.id, user);
    return user;
  }

  /** Adds a team with Linear's default workflow (one state of each type) and the given members. */
  addTeam(input: { key: string; name: string; memberIds?: string[]; description?: string }): TeamRecord {
    const now = this.now();
    const team: TeamRecord = {
      id: randomUUID(),
      key: input.key.toUpperCase(),
      name: input.name,
      description: input.description ?? null,
      memberIds: input.memberIds ?? [],
      issueCount: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.teams.set(team.id, team);
    const defaults: Array<[string, WorkflowStateType, string]> = [
      ['Backlog', 'backlog', '#bec2c8'],
      ['Todo', 'unstarted', '#e2e2e2'],
      ['In Progress', 'started', '#f2c94c'],
      ['In Review', 'started', '#0f783c'],
      ['Done', 'completed', '#5e6ad2'],
      ['Canceled', 'canceled', '#95a2b3'],
    ];
    defaults.forEach(([name, type, color], position) => {
      this.addWorkflowState({ teamId: team.id, name, type, color, position });
    });
    return team;
  }

  addWorkflowState(input: Omit<WorkflowStateRecord, 'id' | 'createdAt' | 'updatedAt'>): WorkflowStateRecord {
    const now = this.now();
    const state: WorkflowStateRecord = { id: randomUUID(), createdAt: now, updatedAt: now, ...input };
    this.states.set(state.id, state);
    return state;
  }

  addLabel(input: { name: string; teamId?: string | null; color?: string }): LabelRecord {
    const now = this.now();
    const label: LabelRecord = {
      id: randomUUID(),
      teamId: input.teamId ?? null,
      name: input.name,
      color: input.color ?? '#bec2c8',
      createdAt: now,
      updatedAt: now,
    };
    this.labels.set(label.id, label);
    return label;
  }

  // ---- lookups ----

  user(id: string): UserRecord | undefined {
    return this.users.get(id);
  }

  userByEmail(email: string): UserRecord | undefined {
    const wanted = email.toLowerCase();
    return [...this.users.values()].find((u) => u.email.toLowerCase() === wanted);
  }

  teamByKey(key: string): TeamRecord | undefined {
    return [...this.teams.values()].find((t) => t.key === key.toUpperCase());
  }

  teamStates(teamId: string): WorkflowStateRecord[] {
    return [...this.states.values()].filter((s) => s.teamId === teamId).sort((a, b) => a.position - b.position);
  }

  stateByName(teamId: string, name: string): WorkflowStateRecord | undefined {
    return this.teamStates(teamId).find((s) => s.name.toLowerCase() === name.toLowerCase());
  }

  /** The team's first state of that type, the one Linear picks when only a type is asked for. */
  stateOfType(teamId: string, type: WorkflowStateType): WorkflowStateRecord | undefined {
    return this.teamStates(teamId).find((s) => s.type === type);
  }

  labelByName(name: string, teamId?: string): LabelRecord | undefined {
    return [...this.labels.values()].find(
      (l) => l.name.toLowerCase() === name.toLowerCase() && (l.teamId === null || l.teamId === (teamId ?? l.teamId)),
    );
  }

  identifier(issue: IssueRecord): string {
    return `${this.team(issue.teamId).key}-${issue.number}`;
  }

  issueUrl(issue: IssueRecord): string {
    return `${this.webUrl}/${this.organization.urlKey}/issue/${this.identifier(issue)}/${slugify(issue.title)}`;
  }

  team(id: string): TeamRecord {
    const team = this.teams.get(id);
    if (!team) throw new FakeLinearError('not-found', 'Team');
    return team;
  }

  workflowState(id: string): WorkflowStateRecord {
    const state = this.states.get(id);
    if (!state) throw new FakeLinearError('not-found', 'WorkflowState');
    return state;
  }

  /** By UUID or by identifier (`ENG-123`, any case), as Linear's `issue(id:)` accepts both. */
  findIssue(idOrIdentifier: string): IssueRecord | undefined {
    const byId = this.issues.get(idOrIdentifier);
    if (byId) return byId;
    const match = /^([A-Za-z0-9]+)-(\d+)$/.exec(idOrIdentifier);
    if (!match) return undefined;
    const team = this.teamByKey(match[1] ?? '');
    if (!team) return undefined;
    const number = Number(match[2]);
    return [...this.issues.values()].find((i) => i.teamId === team.id && i.number === number);
  }

  issue(idOrIdentifier: string): IssueRecord {
    const issue = this.findIssue(idOrIdentifier);
    if (!issue) throw new FakeLinearError('not-found', 'Issue');
    return issue;
  }

  comment(id: string): CommentRecord {
    const comment = this.comments.get(id);
    if (!comment) throw new FakeLinearError('not-found', 'Comment');
    return comment;
  }

  issueComments(issueId: string): CommentRecord[] {
    return [...this.comments.values()].filter((c) => c.issueId === issueId);
  }

  issueAttachments(issueId: string): AttachmentRecord[] {
    return [...this.attachments.values()].filter((a) => a.issueId === issueId);
  }

  // ---- writes (each one is a change Linear would send a webhook for) ----

  createIssue(
    input: IssueChanges & { teamId: string; title?: string; id?: string; createdAt?: Date },
    actorId: string | null,
  ): IssueRecord {
    const team = this.team(input.teamId);
    const stateId = input.stateId ?? this.defaultStateId(team.id);
    this.assertIssueReferences({ ...input, stateId }, team.id);
    const now = this.now();
    team.issueCount += 1;
    const issue: IssueRecord = {
      id: input.id ?? randomUUID(),
      teamId: team.id,
      number: team.issueCount,
      title: input.title ?? '',
      description: input.description ?? null,
      priority: input.priority ?? 0,
      stateId,
      assigneeId: input.assigneeId ?? null,
      creatorId: actorId,
      labelIds: input.labelIds ?? [],
      dueDate: input.dueDate ?? null,
      estimate: input.estimate ?? null,
      sortOrder: input.sortOrder ?? -team.issueCount,
      createdAt: input.createdAt ?? now,
      updatedAt: now,
      archivedAt: null,
      trashed: false,
      startedAt: null,
      completedAt: null,
      canceledAt: null,
    };
    this.stampStateTimes(issue, now);
    this.issues.set(issue.id, issue);
    this.emit({ type: 'Issue', action: 'create', id: issue.id, actorId, snapshot: { ...issue } });
    return issue;
  }

  updateIssue(idOrIdentifier: string, changes: IssueChanges, actorId: string | null): IssueRecord {
    const issue = this.issue(idOrIdentifier);
    const teamId = changes.teamId ?? issue.teamId;
    this.assertIssueReferences(changes, teamId);
    const updatedFrom: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(changes) as Array<[keyof IssueChanges, unknown]>) {
      if (value === undefined) continue;
      const before = issue[key];
      if (JSON.stringify(before) === JSON.stringify(value)) continue;
      updatedFrom[key] = before;
      (issue as unknown as Record<string, unknown>)[key] = value;
    }
    if (Object.keys(updatedFrom).length === 0) return issue;
    const now = this.now();
    updatedFrom.updatedAt = issue.updatedAt.toISOString();
    issue.updatedAt = now;
    if ('stateId' in updatedFrom) this.stampStateTimes(issue, now);
    if ('trashed' in updatedFrom) issue.archivedAt = issue.trashed ? now : null;
    this.emit({ type: 'Issue', action: 'update', id: issue.id, updatedFrom, actorId, snapshot: { ...issue } });
    return issue;
  }

  /** Linear's `issueDelete`: the issue goes to the trash (archived, `trashed: true`), still readable by id. */
  trashIssue(idOrIdentifier: string, actorId: string | null): IssueRecord {
    const issue = this.issue(idOrIdentifier);
    const now = this.now();
    const updatedFrom = {
      trashed: issue.trashed,
      archivedAt: issue.archivedAt,
      updatedAt: issue.updatedAt.toISOString(),
    };
    issue.trashed = true;
    issue.archivedAt = now;
    issue.updatedAt = now;
    this.emit({ type: 'Issue', action: 'remove', id: issue.id, updatedFrom, actorId, snapshot: { ...issue } });
    return issue;
  }

  archiveIssue(idOrIdentifier: string, actorId: string | null): IssueRecord {
    const issue = this.issue(idOrIdentifier);
    const now = this.now();
    const updatedFrom = { archivedAt: issue.archivedAt, updatedAt: issue.updatedAt.toISOString() };
    issue.archivedAt = now;
    issue.updatedAt = now;
    this.emit({ type: 'Issue', action: 'update', id: issue.id, updatedFrom, actorId, snapshot: { ...issue } });
    return issue;
  }

  /** Gone for good (permanent delete, or purged from the trash): afterwards Linear answers "Entity not found". */
  purgeIssue(idOrIdentifier: string, actorId: string | null): IssueRecord {
    const issue = this.issue(idOrIdentifier);
    this.issues.delete(issue.id);
    for (const c of this.issueComments(issue.id)) this.comments.delete(c.id);
    for (const a of this.issueAttachments(issue.id)) this.attachments.delete(a.id);
    this.emit({ type: 'Issue', action: 'remove', id: issue.id, actorId, snapshot: { ...issue } });
    return issue;
  }

  createComment(
    input: { issueId: string; body: string; parentId?: string | null; id?: string; createdAt?: Date },
    actorId: string | null,
  ): CommentRecord {
    const issue = this.issue(input.issueId);
    if (input.parentId) this.comment(input.parentId);
    const now = this.now();
    const comment: CommentRecord = {
      id: input.id ?? randomUUID(),
      issueId: issue.id,
      body: input.body,
      userId: actorId,
      parentId: input.parentId ?? null,
      createdAt: input.createdAt ?? now,
      updatedAt: now,
      editedAt: null,
      archivedAt: null,
    };
    this.comments.set(comment.id, comment);
    this.emit({ type: 'Comment', action: 'create', id: comment.id, actorId, snapshot: { ...comment } });
    return comment;
  }

  updateComment(id: string, changes: { body?: string }, actorId: string | null): CommentRecord {
    const comment = this.comment(id);
    if (changes.body === undefined || changes.body === comment.body) return comment;
    const now = this.now();
    const updatedFrom = { body: comment.body, editedAt: comment.editedAt, updatedAt: comment.updatedAt.toISOString() };
    comment.body = changes.body;
    comment.editedAt = now;
    comment.updatedAt = now;
    this.emit({ type: 'Comment', action: 'update', id: comment.id, updatedFrom, actorId, snapshot: { ...comment } });
    return comment;
  }

  deleteComment(id: string, actorId: string | null): CommentRecord {
    const comment = this.comment(id);
    this.comments.delete(id);
    this.emit({ type: 'Comment', action: 'remove', id, actorId, snapshot: { ...comment } });
    return comment;
  }

  /**
   * Linear's attachmentCreate is an upsert keyed by (issue, url): creating the same URL on the same issue again
   * updates the existing attachment instead of adding a second one.
   */
  upsertAttachment(
    input: {
      issueId: string;
      url: string;
      title: string;
      subtitle?: string | null;
      metadata?: Record<string, unknown> | null;
      iconUrl?: string | null;
      id?: string;
    },
    actorId: string | null,
  ): AttachmentRecord {
    const issue = this.issue(input.issueId);
    const now = this.now();
    const existing = this.issueAttachments(issue.id).find((a) => a.url === input.url);
    if (existing) {
      const updatedFrom = {
        title: existing.title,
        subtitle: existing.subtitle,
        updatedAt: existing.updatedAt.toISOString(),
      };
      existing.title = input.title;
      existing.subtitle = input.subtitle ?? existing.subtitle;
      existing.metadata = input.metadata ?? existing.metadata;
      existing.iconUrl = input.iconUrl ?? existing.iconUrl;
      existing.updatedAt = now;
      this.emit({
        type: 'Attachment',
        action: 'update',
        id: existing.id,
        updatedFrom,
        actorId,
        snapshot: { ...existing },
      });
      return existing;
    }
    const attachment: AttachmentRecord = {
      id: input.id ?? randomUUID(),
      issueId: issue.id,
      url: input.url,
      title: input.title,
      subtitle: input.subtitle ?? null,
      metadata: input.metadata ?? {},
      iconUrl: input.iconUrl ?? null,
      creatorId: actorId,
      createdAt: now,
      updatedAt: now,
    };
    this.attachments.set(attachment.id, attachment);
    this.emit({ type: 'Attachment', action: 'create', id: attachment.id, actorId, snapshot: { ...attachment } });
    return attachment;
  }

  deleteAttachment(id: string, actorId: string | null): AttachmentRecord {
    const attachment = this.attachments.get(id);
    if (!attachment) throw new FakeLinearError('not-found', 'Attachment');
    this.attachments.delete(id);
    this.emit({ type: 'Attachment', action: 'remove', id, actorId, snapshot: { ...attachment } });
    return attachment;
  }

  addWebhook(input: {
    url: string;
    secret?: string | null;
    label?: string | null;
    enabled?: boolean;
    resourceTypes: string[];
    teamId?: string | null;
    allPublicTeams?: boolean;
    creatorId?: string | null;
  }): WebhookRecord {
    if (!/^https?:\/\//.test(input.url)) throw new FakeLinearError('invalid-input', 'url must be an http(s) URL');
    if (input.teamId) this.team(input.teamId);
    const now = this.now();
    const webhook: WebhookRecord = {
      id: randomUUID(),
      url: input.url,
      // Linear generates a signing secret when none is given and shows it once, on creation.
      secret: input.secret ?? `lin_wh_${randomUUID().replaceAll('-', '')}`,
      label: input.label ?? null,
      enabled: input.enabled ?? true,
      resourceTypes: input.resourceTypes,
      teamId: input.teamId ?? null,
      allPublicTeams: input.allPublicTeams ?? !input.teamId,
      creatorId: input.creatorId ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.webhooks.set(webhook.id, webhook);
    this.lastSyncId += 1;
    return webhook;
  }

  deleteWebhook(id: string): WebhookRecord {
    const webhook = this.webhooks.get(id);
    if (!webhook) throw new FakeLinearError('not-found', 'Webhook');
    this.webhooks.delete(id);
    this.lastSyncId += 1;
    return webhook;
  }

  private defaultStateId(teamId: string): string {
    // Linear files new issues in the team's first "unstarted" state (Todo), falling back to backlog.
    const state =
      this.stateOfType(teamId, 'unstarted') ?? this.stateOfType(teamId, 'backlog') ?? this.teamStates(teamId)[0];
    if (!state) throw new FakeLinearError('invalid-input', 'team has no workflow states');
    return state.id;
  }

  private assertIssueReferences(input: IssueChanges, teamId: string): void {
    if (input.stateId !== undefined) {
      const state = this.states.get(input.stateId);
      if (!state) throw new FakeLinearError('not-found', 'WorkflowState');
      if (state.teamId !== teamId) throw new FakeLinearError('invalid-input', 'stateId belongs to another team');
    }
    if (input.assigneeId) {
      if (!this.users.has(input.assigneeId)) throw new FakeLinearError('not-found', 'User');
    }
    for (const labelId of input.labelIds ?? []) {
      const label = this.labels.get(labelId);
      if (!label) throw new FakeLinearError('not-found', 'IssueLabel');
      if (label.teamId !== null && label.teamId !== teamId)
        throw new FakeLinearError('invalid-input', `label ${label.name} belongs to another team`);
    }
    if (input.priority !== undefined && (input.priority < 0 || input.priority > 4 || !Number.isInteger(input.priority)))
      throw new FakeLinearError('invalid-input', 'priority must be an integer from 0 to 4');
  }

  private stampStateTimes(issue: IssueRecord, now: Date): void {
    const type = this.workflowState(issue.stateId).type;
    if (type === 'started' && !issue.startedAt) issue.startedAt = now;
    issue.completedAt = type === 'completed' ? now : null;
    issue.canceledAt = type === 'canceled' ? now : null;
  }
}

/** The workspace every fake starts with; tests find these by key, name or email. */
export function seedWorkspace(store: LinearStore): void {
  const ada = store.addUser({ name: 'Ada Lovelace', email: 'ada@acme.test', admin: true });
  const grace = store.addUser({ name: 'Grace Hopper', email: 'grace@acme.test' });
  const linus = store.addUser({ name: 'Linus Torvalds', email: 'linus@acme.test' });
  const eng = store.addTeam({ key: 'ENG', name: 'Engineering', memberIds: [ada.id, grace.id, linus.id] });
  store.addTeam({ key: 'SUP', name: 'Support', memberIds: [ada.id, grace.id] });
  store.addLabel({ name: 'Bug', teamId: eng.id, color: '#eb5757' });
  store.addLabel({ name: 'Feature', teamId: eng.id, color: '#bb87fc' });
  store.addLabel({ name: 'Improvement', teamId: eng.id, color: '#4ea7fc' });
  store.addLabel({ name: 'Customer', teamId: null, color: '#f2994a' });
}
