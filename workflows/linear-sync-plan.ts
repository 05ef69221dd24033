// The three-way merge at the heart of Linear sync, as pure functions: given what each side holds now and what both
// held after the last sync, decide per field what to write where, and which changes collide. Deterministic and
// free of I/O, so the sync workflow can call it and tests can state its rules directly.
// (Types first: the activities and the workflow share them. The functions follow below.)

export type TicketStatus = 'open' | 'pending' | 'on_hold' | 'solved' | 'closed';
export type TicketPriority = 'low' | 'normal' | 'high' | 'urgent';
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
