// What the Linear activity tests stand on: the local Linear server, config pointing at it, an organisation with
// members whose emails Linear also knows, an installation row with sealed credentials (API key, or OAuth tokens
// obtained through the fake's real authorize/token endpoints), tickets made through the domain.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { integrationConfigs, member, user } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig } from '../../common/config.ts';
import { sealCredentials } from '../../common/credentials.ts';
import {
  buildAuthorizeUrl,
  createPkcePair,
  exchangeAuthorizationCode,
  type LinearTokenSet,
} from '../../common/linear/oauth.ts';
import type { LinearConfig, LinearCredentials } from '../../domain/integrations/linear-config.ts';
import { makeOrganization, type TestOrganization } from '../../domain/test-fixtures.ts';
import { createTicket } from '../../domain/tickets/create-ticket.ts';
import type { CreateTicketInput } from '../../domain/tickets/schemas.ts';
import { type LinearSettings, linearSettings } from '../../packages/integrations/linear/settings.ts';
import { createLinearFake, type LinearFake } from '../../test/fakes/linear/server.ts';
import { testDatabase } from '../../test/support/database.ts';
import type { LinearActivityDeps } from './call.ts';
import { createLinearActivities } from './index.ts';

export type LinearTestConfig = LinearActivityDeps['config'] & { linear: LinearSettings };

export function linearTestConfig(linear: LinearFake, overrides: Partial<LinearSettings> = {}): LinearTestConfig {
  const base = loadConfig();
  return {
    credentialKeys: base.credentialKeys,
    publicUrl: 'https://desk.example.test',
    linear: {
      ...linearSettings.read(process.env, base),
      apiUrl: linear.graphqlUrl,
      authorizeUrl: linear.oauth.authorizeUrl,
      tokenUrl: linear.oauth.tokenUrl,
      revokeUrl: linear.oauth.revokeUrl,
      clientId: linear.oauth.client.clientId,
      clientSecret: linear.oauth.client.clientSecret,
      redirectUri: 'https://desk.example.test/api/linear/oauth/callback',
      timeoutMs: 5_000,
      ...overrides,
    },
  };
}

export type LinearWorld = {
  linear: LinearFake;
  config: LinearTestConfig;
  deps: LinearActivityDeps;
  activities: ReturnType<typeof createLinearActivities>;
  org: TestOrganization;
  /** The ENG team in the fake. */
  teamId: string;
  close(): Promise<void>;
};

export async function linearWorld(
  options: { temporalClient?: Client; fake?: Parameters<typeof createLinearFake>[0] } = {},
): Promise<LinearWorld> {
  const linear = await createLinearFake(options.fake);
  const config = linearTestConfig(linear);
  const deps: LinearActivityDeps = {
    db: testDatabase().db,
    config,
    // Only routeTicketEventToLinear signals workflows; the other tests never reach the client.
    temporalClient: options.temporalClient ?? (null as unknown as Client),
  };
  return {
    linear,
    config,
    deps,
    activities: createLinearActivities(deps),
    org: await makeOrganization(),
    teamId: linear.state.teamByKey('ENG')!.id,
    close: () => linear.close(),
  };
}

/** Ends a test's world: every request it sent must have been valid against Linear's schema; the fake stops. */
export async function closeLinearWorld(world: LinearWorld | undefined): Promise<void> {
  try {
    world?.linear.assertNoRejectedOperations();
  } finally {
    await world?.close();
  }
}

/** For assert.rejects: an ApplicationFailure of this type, retryable or not as said. */
export function linearFailure(type: string, nonRetryable: boolean, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    assert.equal(err.nonRetryable, nonRetryable, `nonRetryable for ${err.type}: ${err.message}`);
    if (message) assert.match(err.message, message);
    return true;
  };
}

/** A member of the organisation with this name, and a Linear user with the same email. */
export async function memberKnownToLinear(
  world: LinearWorld,
  name: string,
  options: { inLinear?: boolean } = {},
): Promise<{ userId: string; email: string }> {
  const { db } = testDatabase();
  const userId = randomUUID();
  const email = `${name.split(' ')[0]!.toLowerCase()}.${userId.slice(0, 8)}@acme.test`;
  await db.insert(user).values({ id: userId, name, email });
  await db.insert(member).values({ id: randomUUID(), organizationId: world.org.organizationId, userId, role: 'agent' });
  if (options.inLinear !== false) {
    const linearUser = world.linear.state.addUser({ name, email });
    world.linear.state.teamByKey('ENG')!.memberIds.push(linearUser.id);
  }
  return { userId, email };
}

/** An installation of the organisation with these credentials and settings (team ENG unless told otherwise). */
export async function makeInstallation(
  world: LinearWorld,
  credentials: LinearCredentials | 'apiKey',
  config: Partial<LinearConfig> = {},
): Promise<string> {
  const { db } = testDatabase();
  const integrationId = randomUUID();
  const creds: LinearCredentials = credentials === 'apiKey' ? { apiKey: world.linear.apiKey } : credentials;
  await db.insert(integrationConfigs).values({
    id: integrationId,
    organizationId: world.org.organizationId,
    integrationType: 'linear',
    name: 'Linear',
    config: { teamId: world.teamId, workspace: { id: 'acme', name: 'Acme', urlKey: 'acme' }, ...config },
    credentials: sealCredentials(world.config.credentialKeys, world.org.organizationId, integrationId, creds),
  });
  return integrationId;
}

/** An access and a refresh token, through the fake's authorize and token endpoints as a real connect would get. */
export async function oauthTokens(world: LinearWorld, actor: 'user' | 'app' = 'user'): Promise<LinearTokenSet> {
  const pkce = createPkcePair();
  const authorize = buildAuthorizeUrl(world.config.linear, {
    state: 'test-state',
    codeChallenge: pkce.challenge,
    actor,
  });
  const res = await fetch(authorize, { redirect: 'manual' });
  const location = res.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`authorize did not redirect with a code (${res.status} ${location})`);
  return exchangeAuthorizationCode(world.config.linear, { code, codeVerifier: pkce.verifier });
}

export function oauthCredentials(tokens: LinearTokenSet): LinearCredentials {
  return {
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
    ...(tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}),
    scopes: tokens.scopes,
  };
}

export async function makeTicket(world: LinearWorld, input: Partial<CreateTicketInput> = {}) {
  return createTicket(testDatabase().db, world.org.scope, { subject: 'Export to CSV fails', ...input });
}
