// API keys: "sb_" + 32 random bytes (base64url). The key is shown once; only its SHA-256 is stored,
// which is enough for a high-entropy secret (no salt or slow hash needed: there is nothing to guess).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { apikey, type Database, type Executor, member } from '@switchboard/database';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';

const KEY_PATTERN = /^sb_[A-Za-z0-9_-]{43}$/;
/** "sb_" plus six characters: enough to tell keys apart in a list, far too little to guess the rest. */
const PREFIX_LENGTH = 9;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): { key: string; prefix: string; keyHash: string } {
  const key = `sb_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, PREFIX_LENGTH), keyHash: hashApiKey(key) };
}

export async function createApiKey(db: Executor, input: { organizationId: string; userId: string; name: string }) {
  const { key, prefix, keyHash } = generateApiKey();
  const [row] = await db
    .insert(apikey)
    .values({ id: randomUUID(), ...input, prefix, keyHash })
    .returning({ id: apikey.id, name: apikey.name, prefix: apikey.prefix, createdAt: apikey.createdAt });
  return { ...row!, key };
}

const LAST_USED_EVERY_MS = 60_000;
/** Keys whose last write this process remembers; past this many it forgets them all (they are written again). */
const LAST_USED_REMEMBERED = 10_000;
/** When this process last wrote each key's last_used_at (epoch ms). */
const lastUsedWrites = new Map<string, number>();

export type ApiKeyIdentity = { keyId: string; organizationId: string; userId: string; role: string };

/**
 * The identity behind a presented key: its organisation and the current role of the member who created it,
 * so a key loses its power when its creator is demoted or leaves. Null for a malformed, unknown or revoked key.
 */
export async function findApiKeyIdentity(db: Database, presented: string): Promise<ApiKeyIdentity | null> {
  if (!KEY_PATTERN.test(presented)) return null;
  const [found] = await db
    .select({ keyId: apikey.id, organizationId: apikey.organizationId, userId: apikey.userId, role: member.role })
    .from(apikey)
    .innerJoin(member, and(eq(member.organizationId, apikey.organizationId), eq(member.userId, apikey.userId)))
    .where(and(eq(apikey.keyHash, hashApiKey(presented)), isNull(apikey.revokedAt)))
    .limit(1);
  if (!found) return null;
  // At most one write a minute per key: "last used" is for humans, not an access log. The statement enforces that
  // across API processes; this process also skips the round trip for a key it wrote less than a minute ago, which
  // was one of every request's two statements (100 resends at once: 100 updates that changed nothing).
  const now = Date.now();
  if (now - (lastUsedWrites.get(found.keyId) ?? Number.NEGATIVE_INFINITY) < LAST_USED_EVERY_MS) return found;
  if (lastUsedWrites.size >= LAST_USED_REMEMBERED) lastUsedWrites.clear();
  lastUsedWrites.set(found.keyId, now);
  await db
    .update(apikey)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apikey.id, found.keyId),
        or(isNull(apikey.lastUsedAt), lt(apikey.lastUsedAt, sql`now() - interval '1 minute'`)),
      ),
    );
  return found;
}
