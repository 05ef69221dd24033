// The three-way merge at the heart of Linear sync, as pure functions: given what each side holds now and what both
// held after the last sync, decide per field what to write where, and which changes collide. Deterministic and
// free of I/O, so the sync workflow can call it and tests can state its rules directly.
// (Types first: the activities and the workflow share them. The functions follow below.)
import { type TicketPriority, type TicketStatus, ticketStatuses } from '../common/enums.ts';
import type { DispatchedTicketEvent } from '../common/ticket-events.ts';

export type { TicketPriority, TicketStatus };
export type LinearStateType = 'triage' | 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled' | string;
export type SyncedField = 'status' | 'priority' | 'assignee';

export type LinearState = { id: string; name: string; type: LinearStateType; position: number };

/** The ticket's side of the synced fields, with when each last changed (ISO; from its events). */
export type TicketSide = {
  status: TicketStatus;
  priority: TicketPriority;
  /** The assignee's email (lower case), null when unassigned. */
  assigneeEmail: string | null;
  changedAt: Record<SyncedField, string | null>;
};

/** The issue's side: Linear's raw values. */
export type LinearSide = {
  stateId: string;
  /** 0 none, 1 urgent, 2 high, 3 normal, 4 low. */
  priority: number;
  assigneeEmail: string | null;
  /** Linear keeps no per-field times in the issue itself; its `updatedAt` stands for every field. */
  updatedAt: string;
};

/** Both sides' values right after the last sync: what "changed since the last sync" is measured against. */
export type SyncedValues = {
  ticket: { status: TicketStatus; priority: TicketPriority; assigneeEmail: string | null };
  linear: { stateId: string; priority: number; assigneeEmail: string | null };
  /** The issue's updatedAt we last saw (reconciliation compares it). */
  issueUpdatedAt: string;
  at: string;
};

export type SyncSettings = {
  statusToLinear: Partial<Record<TicketStatus, string>>;
  linearToStatus: Record<string, TicketStatus>;
  syncPriority: boolean;
  conflictPolicy: 'latest' | 'ticket' | 'linear';
  /** The team's workflow states, for default mappings by state type. */
  states: LinearState[];
  /**
   * Who the first sync (no synced values yet) takes values from where the sides disagree: the ticket for an issue
   * created from it, Linear for an existing issue that was linked (engineers' work is not rolled back by a link).
   */
  firstSyncWinner?: 'ticket' | 'linear';
};

export type FieldConflict = {
  field: SyncedField;
  ticketValue: unknown;
  linearValue: unknown;
  winner: 'ticket' | 'linear';
  policy: SyncSettings['conflictPolicy'];
  ticketChangedAt: string | null;
  linearChangedAt: string | null;
};

export type SyncPlan = {
  /** Raw Linear values to write (absent: leave as is). */
  toLinear: { stateId?: string; priority?: number; assigneeEmail?: string | null };
  /** Ticket values to write. */
  toTicket: { status?: TicketStatus; priority?: TicketPriority; assigneeEmail?: string | null };
  conflicts: FieldConflict[];
  /** What both sides hold once the plan is applied: the next lastSynced. */
  synced: SyncedValues;
};

// ---------------------------------------------------------------------------------------------------------------
// Mapping between the two sides' vocabularies.

const ticketStatusOrder: readonly TicketStatus[] = ticketStatuses;

/** The team's first state of a type (by Linear's position, as its UI orders them). */
function firstStateOfType(states: readonly LinearState[], type: LinearStateType): LinearState | undefined {
  return [...states].sort((a, b) => a.position - b.position).find((s) => s.type === type);
}

/**
 * Where each ticket status goes when nobody configured it: open → the first unstarted state (Todo), pending → the
 * first started one (In Progress), on_hold → the first backlog state (Backlog; Todo if the team has none),
 * solved and closed → the first completed one (Done). A status with no state of its kind is left out (not written).
 */
export function defaultStatusToLinear(states: readonly LinearState[]): Partial<Record<TicketStatus, string>> {
  const unstarted = firstStateOfType(states, 'unstarted');
  const picks: Record<TicketStatus, LinearState | undefined> = {
    open: unstarted,
    pending: firstStateOfType(states, 'started'),
    on_hold: firstStateOfType(states, 'backlog') ?? unstarted,
    solved: firstStateOfType(states, 'completed'),
    closed: firstStateOfType(states, 'completed'),
  };
  const mapping: Partial<Record<TicketStatus, string>> = {};
  for (const status of ticketStatusOrder) {
    const state = picks[status];
    if (state) mapping[status] = state.id;
  }
  return mapping;
}

/**
 * The ticket status a Linear state stands for when nobody configured it, by the state's type: triage, backlog and
 * unstarted → open, started → pending, completed → solved, canceled → closed. A type Linear adds later reads as open.
 */
export function defaultLinearToStatus(state: Pick<LinearState, 'type'>): TicketStatus {
  switch (state.type) {
    case 'started':
      return 'pending';
    case 'completed':
      return 'solved';
    case 'canceled':
      return 'closed';
    default:
      return 'open';
  }
}

/** The Linear state a ticket status is written as: the configured one, else the default. Undefined: none fits. */
export function linearStateForStatus(status: TicketStatus, settings: SyncSettings): string | undefined {
  return settings.statusToLinear[status] ?? defaultStatusToLinear(settings.states)[status];
}

/** The ticket status a Linear state is written as: the configured one, else by its type. Null: an unknown state. */
export function statusForLinearState(stateId: string, settings: SyncSettings): TicketStatus | null {
  const configured = settings.linearToStatus[stateId];
  if (configured) return configured;
  const state = settings.states.find((s) => s.id === stateId);
  return state ? defaultLinearToStatus(state) : null;
}

const linearPriorityOf: Record<TicketPriority, number> = { urgent: 1, high: 2, normal: 3, low: 4 };

export function linearPriorityForTicket(priority: TicketPriority): number {
  return linearPriorityOf[priority];
}

/** Linear's 0 ("No priority") and anything unexpected read as normal. */
export function ticketPriorityForLinear(priority: number): TicketPriority {
  switch (priority) {
    case 1:
      return 'urgent';
    case 2:
      return 'high';
    case 4:
      return 'low';
    default:
      return 'normal';
  }
}

function normalEmail(email: string | null): string | null {
  return email ? email.trim().toLowerCase() : null;
}

// ---------------------------------------------------------------------------------------------------------------
// The merge.

/**
 * How one field looks on both sides. Two values are equivalent when either side's mapping takes one to the other:
 * ticket `on_hold` and Linear Backlog are equivalent (on_hold is written as Backlog) and so are `open` and Backlog
 * (Backlog reads as open), so neither side is rewritten just because the mappings are not one-to-one.
 */
type FieldRules<T, L> = {
  field: SyncedField;
  ticketValue: T;
  linearValue: L;
  lastTicket: T | undefined;
  lastLinear: L | undefined;
  toLinear(value: T): L | undefined;
  toTicket(value: L): T | undefined;
  sameTicket(a: T, b: T): boolean;
  sameLinear(a: L, b: L): boolean;
};

type FieldOutcome<T, L> = {
  writeLinear?: L;
  writeTicket?: T;
  synced: { ticket: T; linear: L };
  conflict?: FieldConflict;
};

function equivalent<T, L>(r: FieldRules<T, L>): boolean {
  const asLinear = r.toLinear(r.ticketValue);
  if (asLinear !== undefined && r.sameLinear(asLinear, r.linearValue)) return true;
  const asTicket = r.toTicket(r.linearValue);
  return asTicket !== undefined && r.sameTicket(asTicket, r.ticketValue);
}

/** Writes the ticket's value to Linear (if it maps to anything), or Linear's to the ticket. */
function adopt<T, L>(r: FieldRules<T, L>, from: 'ticket' | 'linear'): FieldOutcome<T, L> {
  if (from === 'ticket') {
    const value = r.toLinear(r.ticketValue);
    if (value === undefined) return { synced: { ticket: r.ticketValue, linear: r.linearValue } };
    return { writeLinear: value, synced: { ticket: r.ticketValue, linear: value } };
  }
  const value = r.toTicket(r.linearValue);
  if (value === undefined) return { synced: { ticket: r.ticketValue, linear: r.linearValue } };
  return { writeTicket: value, synced: { ticket: value, linear: r.linearValue } };
}

function mergeField<T, L>(
  r: FieldRules<T, L>,
  policy: SyncSettings['conflictPolicy'],
  ticketChangedAt: string | null,
  linearChangedAt: string,
  firstSync: boolean,
  firstSyncWinner: 'ticket' | 'linear' = 'ticket',
): FieldOutcome<T, L> {
  const unchanged: FieldOutcome<T, L> = { synced: { ticket: r.ticketValue, linear: r.linearValue } };
  if (equivalent(r)) return unchanged;
  // Nothing to compare with yet: the side the link was made from wins (see SyncSettings.firstSyncWinner).
  if (firstSync) return adopt(r, firstSyncWinner);
  const ticketChanged = r.lastTicket === undefined || !r.sameTicket(r.ticketValue, r.lastTicket);
  const linearChanged = r.lastLinear === undefined || !r.sameLinear(r.linearValue, r.lastLinear);
  if (ticketChanged && !linearChanged) return adopt(r, 'ticket');
  if (linearChanged && !ticketChanged) return adopt(r, 'linear');
  // Neither changed yet they differ: a value one side could not take (an assignee unknown to the other side, a
  // status with no state). Leave both; writing again would change nothing.
  if (!ticketChanged && !linearChanged) return unchanged;
  const winner = conflictWinner(policy, ticketChangedAt, linearChangedAt);
  return {
    ...adopt(r, winner),
    conflict: {
      field: r.field,
      ticketValue: r.ticketValue,
      linearValue: r.linearValue,
      winner,
      policy,
      ticketChangedAt,
      linearChangedAt,
    },
  };
}

/**
 * Under `latest` the later change wins. Linear keeps one `updatedAt` per issue, which is never earlier than the
 * field's real change, so a tie goes to the ticket (whose time is the field's own); a ticket change of unknown time
 * counts as older.
 */
export function conflictWinner(
  policy: SyncSettings['conflictPolicy'],
  ticketChangedAt: string | null,
  linearChangedAt: string | null,
): 'ticket' | 'linear' {
  if (policy !== 'latest') return policy;
  if (ticketChangedAt === null) return 'linear';
  if (linearChangedAt === null) return 'ticket';
  return Date.parse(ticketChangedAt) >= Date.parse(linearChangedAt) ? 'ticket' : 'linear';
}

/**
 * The three-way merge of one link, per field (status, assignee, and priority when `syncPriority` is on):
 * - equivalent values under the mappings: nothing to write;
 * - only one side changed since `last`: that side's value is written to the other;
 * - both changed to values that are not equivalent: a conflict, settled by `settings.conflictPolicy` and reported;
 * - the first sync (`last` null): `settings.firstSyncWinner`'s value (the ticket's by default) is written where the
 *   two are not already equivalent.
 * `synced` is what both sides hold once the plan is applied. Because it becomes `last`, a webhook reporting the
 * value we just wrote (or a ticket event for the value we just set) finds nothing changed: no echoes.
 */
export function planSync(
  ticket: TicketSide,
  linear: LinearSide,
  last: SyncedValues | null,
  settings: SyncSettings,
  now: string,
): SyncPlan {
  const firstSync = last === null;
  const plan: SyncPlan = {
    toLinear: {},
    toTicket: {},
    conflicts: [],
    synced: {
      ticket: { status: ticket.status, priority: ticket.priority, assigneeEmail: normalEmail(ticket.assigneeEmail) },
      linear: { stateId: linear.stateId, priority: linear.priority, assigneeEmail: normalEmail(linear.assigneeEmail) },
      issueUpdatedAt: linear.updatedAt,
      at: now,
    },
  };
  const same = <V>(a: V, b: V) => a === b;
  /** Merges one field and writes its outcome into the plan under each side's key. */
  const merge = <T extends keyof SyncedValues['ticket'], L extends keyof SyncedValues['linear']>(
    ticketKey: T,
    linearKey: L,
    rules: Omit<FieldRules<SyncedValues['ticket'][T], SyncedValues['linear'][L]>, 'sameTicket' | 'sameLinear'>,
  ) => {
    const outcome = mergeField(
      { ...rules, sameTicket: same, sameLinear: same },
      settings.conflictPolicy,
      ticket.changedAt[rules.field],
      linear.updatedAt,
      firstSync,
      settings.firstSyncWinner,
    );
    if (outcome.writeLinear !== undefined) (plan.toLinear as SyncedValues['linear'])[linearKey] = outcome.writeLinear;
    if (outcome.writeTicket !== undefined) (plan.toTicket as SyncedValues['ticket'])[ticketKey] = outcome.writeTicket;
    if (outcome.conflict) plan.conflicts.push(outcome.conflict);
    plan.synced.ticket[ticketKey] = outcome.synced.ticket;
    plan.synced.linear[linearKey] = outcome.synced.linear;
  };

  merge('status', 'stateId', {
    field: 'status',
    ticketValue: ticket.status,
    linearValue: linear.stateId,
    lastTicket: last?.ticket.status,
    lastLinear: last?.linear.stateId,
    toLinear: (s) => linearStateForStatus(s, settings),
    toTicket: (id) => statusForLinearState(id, settings) ?? undefined,
  });
  merge('assigneeEmail', 'assigneeEmail', {
    field: 'assignee',
    ticketValue: normalEmail(ticket.assigneeEmail),
    linearValue: normalEmail(linear.assigneeEmail),
    lastTicket: last ? normalEmail(last.ticket.assigneeEmail) : undefined,
    lastLinear: last ? normalEmail(last.linear.assigneeEmail) : undefined,
    toLinear: (e) => e,
    toTicket: (e) => e,
  });
  if (settings.syncPriority)
    merge('priority', 'priority', {
      field: 'priority',
      ticketValue: ticket.priority,
      linearValue: linear.priority,
      lastTicket: last?.ticket.priority,
      lastLinear: last?.linear.priority,
      toLinear: linearPriorityForTicket,
      toTicket: ticketPriorityForLinear,
    });
  return plan;
}

/** True when the plan writes nothing anywhere. */
export function planIsEmpty(plan: SyncPlan): boolean {
  return Object.keys(plan.toLinear).length === 0 && Object.keys(plan.toTicket).length === 0;
}

/**
 * After writing, the synced values as the sides really hold them. An assignee email the other side does not know
 * is written as "unassigned"; recording the email anyway would make the next sync see that side "change" to
 * unassigned and copy that back. Any other difference is someone's newer change and stays visible to the next sync.
 */
export function settleAssignee(
  planned: SyncedValues,
  plan: SyncPlan,
  after: { ticketAssigneeEmail: string | null; linearAssigneeEmail: string | null },
): SyncedValues {
  const settled: SyncedValues = { ...planned, ticket: { ...planned.ticket }, linear: { ...planned.linear } };
  if (plan.toLinear.assigneeEmail && after.linearAssigneeEmail === null) settled.linear.assigneeEmail = null;
  if (plan.toTicket.assigneeEmail && after.ticketAssigneeEmail === null) settled.ticket.assigneeEmail = null;
  return settled;
}

// ---------------------------------------------------------------------------------------------------------------
// Which ticket events need a sync step.

/**
 * Whether a ticket event can change what the link syncs. `ticket.updated` carries every change (the status and
 * assignment events repeat parts of it); a change of fields the link does not sync, or to exactly the values the
 * last step left both sides with (the echo of our own write to the ticket), needs no step and no Linear read. An
 * assignee change always takes a step: the event names a member id, the sync compares emails.
 */
export function ticketEventNeedsSync(event: DispatchedTicketEvent, lastSynced: SyncedValues | null): boolean {
  if (event.type !== 'ticket.updated') return false;
  const { ticket, changes } = (event.payload ?? {}) as {
    ticket?: { status: string; priority: string };
    changes?: Record<string, unknown>;
  };
  // An event of another shape than the catalogue's (a newer producer): look rather than guess.
  if (!ticket || !changes) return true;
  if ('assigneeId' in changes) return true;
  const synced = ['status', 'priority'].filter((field) => field in changes);
  if (synced.length === 0) return false;
  if (lastSynced === null) return true;
  return ticket.status !== lastSynced.ticket.status || ticket.priority !== lastSynced.ticket.priority;
}

/**
 * Whether a link's workflow should hear of a ticket event at all, decided by the routing before it signals: it
 * leaves out what the workflow would drop unread (events that cannot change a synced field, comments imported from
 * Linear) and the echo of a write the link made itself, whose values it already recorded. When the ticket has
 * several links of one installation the integration's write may come from another of them, which must hear of it.
 */
export function linkHearsOf(
  event: DispatchedTicketEvent,
  link: { integrationId: string; onlyLinkOfItsInstallation: boolean },
): boolean {
  if (event.type === 'comment.created') {
    const comment = (event.payload as { comment?: { source?: string } } | null)?.comment;
    return comment !== undefined && comment.source !== 'linear';
  }
  if (!ticketEventNeedsSync(event, null)) return false;
  const ownWrite = event.actor.type === 'integration' && event.actor.id === link.integrationId;
  return !(ownWrite && link.onlyLinkOfItsInstallation);
}

// ---------------------------------------------------------------------------------------------------------------
// Auto-create rules.

/** An auto-create rule as the installation stores it (domain/integrations/linear-config.ts `autoCreateRule`). */
export type AutoCreateRuleLike = { tags?: string[]; priorities?: TicketPriority[] };

/**
 * Whether a ticket event should create an issue for an installation the ticket is not linked to yet: every new
 * ticket when `autoCreateAll`, else when any rule matches the ticket as the event shows it. A rule matches when
 * each condition it sets holds: the ticket has any of its tags (case-insensitive), its priority is one listed.
 */
export function autoCreateMatches(
  installation: { autoCreateAll: boolean; rules: readonly AutoCreateRuleLike[]; linked: boolean },
  eventType: string,
  ticket: { tags: readonly string[]; priority: TicketPriority } | null,
): boolean {
  if (installation.linked) return false;
  if (installation.autoCreateAll && eventType === 'ticket.created') return true;
  if (!ticket) return false;
  const tags = new Set(ticket.tags.map((t) => t.toLowerCase()));
  return installation.rules.some((rule) => {
    const wantsTags = (rule.tags?.length ?? 0) > 0;
    const wantsPriorities = (rule.priorities?.length ?? 0) > 0;
    if (!wantsTags && !wantsPriorities) return false;
    if (wantsTags && !rule.tags!.some((t) => tags.has(t.toLowerCase()))) return false;
    if (wantsPriorities && !rule.priorities!.includes(ticket.priority)) return false;
    return true;
  });
}
