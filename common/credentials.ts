// Integration credentials: sealed with envelope encryption bound to their record, opened only by
// the code that calls the third party, and shown to people only as a masked hint.
import { type CredentialEnvelope, type Database, integrationConfigs } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import type { KeyRing } from './config.ts';
import { openJson, sealJson } from './crypto/envelope.ts';
import { notFound } from './errors.ts';

export type Credentials = Record<string, unknown>;

/** The AAD binding an envelope to its row: copied to another integration or organisation, it will not open. */
export function credentialContext(organizationId: string, integrationId: string): string {
  return `integration_configs/${organizationId}/${integrationId}`;
}

export function sealCredentials(
  keys: KeyRing,
  organizationId: string,
  integrationId: string,
  credentials: Credentials,
): CredentialEnvelope {
  return sealJson(keys, credentials, credentialContext(organizationId, integrationId));
}

/** For activities that call the third party; never for responses, logs or workflow payloads. */
export async function loadIntegrationCredentials(
  db: Database,
  keys: KeyRing,
  organizationId: string,
  integrationId: string,
): Promise<Credentials | null> {
  const [row] = await db
    .select({ credentials: integrationConfigs.credentials })
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, organizationId)));
  if (!row) throw notFound('integration');
  return openCredentials(keys, organizationId, integrationId, row.credentials);
}

/** A row's sealed credentials, opened (for code that read the row itself, in a statement of its own). */
export function openCredentials(
  keys: KeyRing,
  organizationId: string,
  integrationId: string,
  envelope: CredentialEnvelope | null,
): Credentials | null {
  if (!envelope) return null;
  return openJson(keys, envelope, credentialContext(organizationId, integrationId)) as Credentials;
}

const MIN_LENGTH_FOR_ENDS = 20;

/**
 * Never hinted, whichever path stores the credentials: a refresh token (it mints new access tokens) and signing
 * secrets (webhookSecret, signingSecret, …) are not what an admin recognises a connection by, and the hint is
 * readable by every member.
 */
function mayBeHinted(key: string): boolean {
  return key !== 'refreshToken' && !/secret$/i.test(key);
}

/**
 * Enough to recognise which secret is stored ("lin_…3f9a"), never enough to use it: the first and last
 * four characters of the longest string value, and only when that value is long enough (20+) that
 * eight characters leave most of it hidden; shorter secrets show as "••••".
 */
export function credentialsHint(credentials: Credentials): string {
  const longest = Object.entries(credentials)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && mayBeHinted(entry[0]))
    .map(([, value]) => value)
    .reduce((a, b) => (b.length > a.length ? b : a), '');
  return longest.length >= MIN_LENGTH_FOR_ENDS ? `${longest.slice(0, 4)}…${longest.slice(-4)}` : '••••';
}
