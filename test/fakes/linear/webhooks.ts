// Webhook deliveries shaped and signed as Linear sends them: a JSON body with `action`, `type`, `data`,
// `updatedFrom`, `url`, `createdAt`, `organizationId`, `webhookTimestamp` (ms) and `webhookId`; headers
// `linear-signature` (hex HMAC-SHA256 of the raw body with the webhook's secret), `linear-delivery`,
// `linear-event` and `user-agent: Linear-Webhook`. Tests can also forge bad ones: wrong or missing signature,
// a stale timestamp, a duplicate delivery, or a delivery that never arrives.
import { createHmac, randomUUID } from 'node:crypto';
import type { AttachmentRecord, CommentRecord, IssueRecord, LinearStore, StoreChange, WebhookRecord } from './store.ts';
import { priorityLabel } from './store.ts';

export interface WebhookDelivery {
  deliveryId: string;
  webhookId: string;
  url: string;
  event: string;
  action: string;
  /** The exact bytes sent; what the signature covers. */
  body: string;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  /** Why this delivery differs from a genuine one, if a test asked for that. */
  forged?: 'bad-signature' | 'unsigned' | 'stale' | 'duplicate';
  dropped?: boolean;
  status?: number;
  error?: string;
}

export interface Forgery {
  signature?: 'bad' | 'missing';
  /** Sign a body whose webhookTimestamp is this far in the past (the SDK's window is one minute). */
  timestampAgeMs?: number;
}

export function signWebhookBody(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = [];
  /** Linear also sends webhooks for changes made through its API, which is why integrations must suppress echoes. */
  sendForApiChanges: boolean;
  /** Per-delivery timeout: Linear expects an answer within 5 seconds. */
  timeoutMs = 5_000;
  private readonly store: LinearStore;
  private readonly pending = new Set<Promise<void>>();
  private readonly forgeries: Forgery[] = [];
  private dropCount = 0;

  constructor(store: LinearStore, options: { sendForApiChanges: boolean }) {
    this.store = store;
    this.sendForApiChanges = options.sendForApiChanges;
  }

  /** Registers a webhook directly, as an admin would in Linear's settings (for tokens without the admin scope). */
  register(input: {
    url: string;
    secret?: string;
    resourceTypes?: string[];
    teamId?: string;
    label?: string;
  }): WebhookRecord {
    return this.store.addWebhook({ resourceTypes: ['Issue', 'Comment', 'Attachment'], ...input });
  }

  /** The next delivery is forged this way (one forgery per call; calls queue up). */
  forgeNext(forgery: Forgery): void {
    this.forgeries.push(forgery);
  }

  /** The next `count` deliveries are recorded but never sent: a webhook Linear failed to deliver. */
  dropNext(count = 1): void {
    this.dropCount += count;
  }

  /** Sends an earlier delivery again, byte for byte and with the same linear-delivery id, as Linear's retries do. */
  redeliver(deliveryId: string): Promise<void> {
    const original = this.deliveries.find((d) => d.deliveryId === deliveryId);
    if (!original) throw new Error(`no delivery ${deliveryId}`);
    const copy: WebhookDelivery = {
      ...original,
      forged: 'duplicate',
      dropped: false,
      status: undefined,
      error: undefined,
    };
    this.deliveries.push(copy);
    return this.track(this.post(copy));
  }

  /** Resolves once every delivery started so far has been answered (or failed). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  handleChange(change: StoreChange, source: 'api' | 'simulated'): void {
    if (source === 'api' && !this.sendForApiChanges) return;
    const teamId = this.teamOf(change);
    for (const webhook of this.store.webhooks.values()) {
      if (!webhook.enabled || !webhook.resourceTypes.includes(change.type)) continue;
      if (webhook.teamId && webhook.teamId !== teamId) continue;
      this.track(this.deliver(webhook, change));
    }
  }

  private track(promise: Promise<void>): Promise<void> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
    return promise;
  }

  private async deliver(webhook: WebhookRecord, change: StoreChange): Promise<void> {
    const forgery = this.forgeries.shift();
    const timestamp = Date.now() - (forgery?.timestampAgeMs ?? 0);
    const payload: Record<string, unknown> = {
      action: change.action,
      actor: this.actor(change.actorId),
      createdAt: new Date(timestamp).toISOString(),
      data: this.data(change),
      ...(change.action === 'update' && change.updatedFrom
        ? { updatedFrom: this.webhookValues(change.updatedFrom) }
        : {}),
      url: this.url(change),
      type: change.type,
      organizationId: this.store.organization.id,
      webhookTimestamp: timestamp,
      webhookId: webhook.id,
    };
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Linear-Webhook',
      'linear-delivery': randomUUID(),
      'linear-event': change.type,
    };
    if (forgery?.signature === 'bad') headers['linear-signature'] = signWebhookBody(body, `${webhook.secret}-wrong`);
    else if (forgery?.signature !== 'missing') headers['linear-signature'] = signWebhookBody(body, webhook.secret);
    const delivery: WebhookDelivery = {
      deliveryId: headers['linear-delivery'] ?? '',
      webhookId: webhook.id,
      url: webhook.url,
      event: change.type,
      action: change.action,
      body,
      payload,
      headers,
      forged:
        forgery?.signature === 'bad'
          ? 'bad-signature'
          : forgery?.signature === 'missing'
            ? 'unsigned'
            : forgery?.timestampAgeMs
              ? 'stale'
              : undefined,
    };
    this.deliveries.push(delivery);
    if (this.dropCount > 0) {
      this.dropCount -= 1;
      delivery.dropped = true;
      return;
    }
    await this.post(delivery);
  }

  private async post(delivery: WebhookDelivery): Promise<void> {
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      delivery.status = response.status;
      await response.arrayBuffer();
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
  }

  private teamOf(change: StoreChange): string | null {
    if (change.type === 'Issue') return (change.snapshot as IssueRecord).teamId;
    const issueId = (change.snapshot as CommentRecord | AttachmentRecord).issueId;
    return this.store.issues.get(issueId)?.teamId ?? null;
  }

  private url(change: StoreChange): string | null {
    const issue =
      change.type === 'Issue'
        ? (change.snapshot as IssueRecord)
        : this.store.issues.get((change.snapshot as CommentRecord | AttachmentRecord).issueId);
    if (!issue) return null;
    const base = this.issueUrl(issue);
    return change.type === 'Comment' ? `${base}#comment-${change.id.slice(0, 8)}` : base;
  }

  private issueUrl(issue: IssueRecord): string {
    return this.store.teams.has(issue.teamId) ? this.store.issueUrl(issue) : '';
  }

  private actor(actorId: string | null) {
    const user = actorId ? this.store.users.get(actorId) : undefined;
    if (!user) return null;
    return {
      id: user.id,
      type: 'user',
      name: user.name,
      email: user.email,
      avatarUrl: user.avatarUrl,
      url: `${this.store.webUrl}/${this.store.organization.urlKey}/profiles/${user.displayName}`,
    };
  }

  private user(userId: string | null) {
    const user = userId ? this.store.users.get(userId) : undefined;
    if (!user) return undefined;
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      avatarUrl: user.avatarUrl,
      url: `${this.store.webUrl}/${this.store.organization.urlKey}/profiles/${user.displayName}`,
    };
  }

  /** Dates travel as ISO strings in webhook bodies. */
  private webhookValues(values: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
  }

  /** `data` in the shape of the schema's IssueWebhookPayload / CommentWebhookPayload / AttachmentWebhookPayload. */
  private data(change: StoreChange): Record<string, unknown> {
    if (change.type === 'Issue') return this.issueData(change.snapshot as IssueRecord);
    if (change.type === 'Comment') {
      const comment = change.snapshot as CommentRecord;
      const issue = this.store.issues.get(comment.issueId);
      const team = issue ? this.store.teams.get(issue.teamId) : undefined;
      return this.webhookValues({
        id: comment.id,
        body: comment.body,
        createdAt: comment.createdAt,
        updatedAt: comment.updatedAt,
        editedAt: comment.editedAt,
        archivedAt: comment.archivedAt,
        reactionData: {},
        issueId: comment.issueId,
        parentId: comment.parentId,
        userId: comment.userId,
        user: this.user(comment.userId),
        issue:
          issue && team
            ? {
                id: issue.id,
                identifier: this.store.identifier(issue),
                title: issue.title,
                teamId: team.id,
                team: { id: team.id, key: team.key, name: team.name },
                url: this.issueUrl(issue),
              }
            : undefined,
      });
    }
    const attachment = change.snapshot as AttachmentRecord;
    return this.webhookValues({
      id: attachment.id,
      issueId: attachment.issueId,
      url: attachment.url,
      title: attachment.title,
      subtitle: attachment.subtitle,
      metadata: attachment.metadata,
      groupBySource: false,
      creatorId: attachment.creatorId,
      createdAt: attachment.createdAt,
      updatedAt: attachment.updatedAt,
    });
  }

  private issueData(issue: IssueRecord): Record<string, unknown> {
    const team = this.store.teams.get(issue.teamId);
    const state = this.store.states.get(issue.stateId);
    const labels = issue.labelIds
      .map((id) => this.store.labels.get(id))
      .filter((l) => l !== undefined)
      .map((l) => ({ id: l.id, name: l.name, color: l.color, parentId: null }));
    return this.webhookValues({
      id: issue.id,
      identifier: team ? `${team.key}-${issue.number}` : String(issue.number),
      number: issue.number,
      title: issue.title,
      description: issue.description,
      priority: issue.priority,
      priorityLabel: priorityLabel(issue.priority),
      url: this.issueUrl(issue),
      createdAt: issue.createdAt,
      updatedAt: issue.updatedAt,
      archivedAt: issue.archivedAt,
      trashed: issue.trashed,
      startedAt: issue.startedAt,
      completedAt: issue.completedAt,
      canceledAt: issue.canceledAt,
      dueDate: issue.dueDate,
      estimate: issue.estimate,
      sortOrder: issue.sortOrder,
      prioritySortOrder: issue.sortOrder,
      previousIdentifiers: [],
      reactionData: {},
      subscriberIds: [issue.creatorId, issue.assigneeId].filter((id): id is string => Boolean(id)),
      teamId: issue.teamId,
      team: team ? { id: team.id, key: team.key, name: team.name } : undefined,
      stateId: issue.stateId,
      state: state ? { id: state.id, name: state.name, type: state.type, color: state.color } : undefined,
      assigneeId: issue.assigneeId,
      assignee: this.user(issue.assigneeId),
      creatorId: issue.creatorId,
      creator: this.user(issue.creatorId),
      labelIds: issue.labelIds,
      labels,
    });
  }
}
