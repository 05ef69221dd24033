// Activities that touch only our own database. Workflows import the type, never the module.
import type { Database } from '@switchboard/database';
import { createSlaActivities } from './sla.ts';

export function createDbActivities({ db }: { db: Database }) {
  return { ...createSlaActivities({ db }) };
}

export type DbActivities = ReturnType<typeof createDbActivities>;
export type { EmitSlaEventInput, EmitSlaEventResult, SlaEventType, SlaKind, SlaTicketFacts } from './sla.ts';
