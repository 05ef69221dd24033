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
  // At most one write a minute per key: "last used" is for humans, not an access log.
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
