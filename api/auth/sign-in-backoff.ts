// Back-off per account-and-address pair for password sign-in. The per-address limit (better-auth's rate limiter)
// caps how fast one client may guess at all; this caps how many guesses one client gets at one account: after a
// few failures in a row the pair is locked for a while, doubling with each further failure, and a success clears it.
// Keyed by the pair, not the account, so an attacker failing on someone's account locks only themselves out of it:
// the owner, from any other address, still signs in. Kept in PostgreSQL, so every API instance sees the same count.
import { createHmac } from 'node:crypto';
import { type Database, signInFailures } from '@switchboard/database';
import { eq, sql } from 'drizzle-orm';

/** Failures in a row a pair may have before it is locked (people mistype). */
export const FREE_FAILURES = 5;
const FIRST_LOCK_MS = 30_000;
const LONGEST_LOCK_MS = 15 * 60_000;

/** How long a pair is locked after its n-th failure in a row. */
export function lockAfter(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(LONGEST_LOCK_MS, FIRST_LOCK_MS * 2 ** (failures - FREE_FAILURES));
}

/** An HMAC, so the table holds neither the email nor the address, and a leaked table cannot be reversed offline. */
export function pairKey(secret: string, email: string, address: string): string {
  return createHmac('sha256', secret).update(`${email.trim().toLowerCase()}\n${address}`).digest('base64url');
}

/** Milliseconds until the pair may try again; 0 when it may now. */
export async function lockedFor(db: Database, key: string): Promise<number> {
  const [row] = await db
    .select({ ms: sql<number>`greatest(0, extract(epoch from (${signInFailures.lockedUntil} - now())) * 1000)` })
    .from(signInFailures)
    .where(eq(signInFailures.key, key));
  return row ? Math.ceil(Number(row.ms)) : 0;
}

/** Counts a failure (a day without failures starts the count again) and locks the pair as the count says. */
export async function recordFailure(db: Database, key: string): Promise<void> {
  const failures = sql`case when ${signInFailures.updatedAt} < now() - interval '1 day' then 1
                            else ${signInFailures.failures} + 1 end`;
  const [row] = await db
    .insert(signInFailures)
    .values({ key, failures: 1 })
    .onConflictDoUpdate({ target: signInFailures.key, set: { failures, updatedAt: sql`now()` } })
    .returning({ failures: signInFailures.failures });
  const lockMs = lockAfter(row!.failures);
  if (lockMs > 0)
    await db
      .update(signInFailures)
      .set({ lockedUntil: sql`now() + ${`${lockMs} milliseconds`}::interval` })
      .where(eq(signInFailures.key, key));
}

export async function clearFailures(db: Database, key: string): Promise<void> {
  await db.delete(signInFailures).where(eq(signInFailures.key, key));
}
