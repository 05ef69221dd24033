// Rows the domain tests stand on: an organisation with members, made directly in the database
// (the HTTP tests get theirs through test/support/api.ts instead).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { member, organization, user } from '@switchboard/database';
import type { Role } from '../common/enums.ts';
import { RequestError } from '../common/errors.ts';
import { testDatabase } from '../test/support/database.ts';
import type { Scope } from './scope.ts';

export type TestOrganization = { organizationId: string; scope: Scope; addMember(role?: Role): Promise<string> };

export async function makeOrganization(): Promise<TestOrganization> {
  const { db } = testDatabase();
  const organizationId = randomUUID();
  await db.insert(organization).values({ id: organizationId, name: 'Acme', slug: `acme-${organizationId}` });
  const addMember = async (role: Role = 'agent') => {
    const userId = randomUUID();
    await db.insert(user).values({ id: userId, name: `Agent ${userId.slice(0, 4)}`, email: `${userId}@example.test` });
    await db.insert(member).values({ id: randomUUID(), organizationId, userId, role });
    return userId;
  };
  const userId = await addMember('agent');
  return { organizationId, scope: { organizationId, actor: { type: 'user', id: userId }, userId }, addMember };
}

/** Row counts of every table a ticket write touches, to prove a refused write changed nothing. */
export async function writeCounts(): Promise<Record<string, number>> {
  const { pool } = testDatabase();
  const tables = [
    'support_requests',
    'ticket_events',
    'ticket_comments',
    'audit_log',
    'customers',
    'integration_configs',
  ];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const result = await pool.query(`select count(*)::int as n from ${table}`);
    counts[table] = result.rows[0].n;
  }
  const numbers = await pool.query('select coalesce(sum(last_ticket_number), 0)::int as n from organization_counters');
  counts.ticketNumbersIssued = numbers.rows[0].n;
  return counts;
}

/** For assert.rejects: the error is an RequestError with this status, and names `field` in its details if given. */
export function httpError(status: number, field?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof RequestError, `expected an RequestError, got ${String(error)}`);
    assert.equal(error.status, status, error.message);
    if (field)
      assert.ok(
        error.details?.some((d) => d.path === field),
        `expected details naming ${field}: ${JSON.stringify(error.details)}`,
      );
    return true;
  };
}
