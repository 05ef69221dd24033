// Shared by the Linear API tests: the real API pointed at the local Linear server, on a Temporal task queue of its
// own (no worker needed to see a workflow started or signalled), and fixtures for links as the workflows leave them.
import { externalSyncRecords } from '@switchboard/database';
import { WorkflowNotFoundError } from '@temporalio/client';
import { linearSettings } from '../../packages/integrations/linear/settings.ts';
import type { LinearFake } from '../../test/fakes/linear/server.ts';
import { startTestApi, type TestApi, type TestUser } from '../../test/support/api.ts';
import { testDatabase } from '../../test/support/database.ts';
import { testTemporal, uniqueTaskQueue } from '../../test/support/temporal.ts';

export type LinearTestApi = TestApi & { taskQueue: string };

/** The API with Linear's URLs (and, unless `oauth: false`, its OAuth application) pointing at the fake. */
export async function startLinearTestApi(
  linear: LinearFake,
  opts: { oauth?: boolean; temporal?: boolean } = {},
): Promise<LinearTestApi> {
  const temporal = opts.temporal === false ? null : await testTemporal();
  const taskQueue = uniqueTaskQueue('linear-api');
  const linearChanges = {
    apiUrl: linear.graphqlUrl,
    authorizeUrl: linear.oauth.authorizeUrl,
    tokenUrl: linear.oauth.tokenUrl,
    revokeUrl: linear.oauth.revokeUrl,
    clientId: opts.oauth === false ? null : linear.oauth.client.clientId,
    clientSecret: opts.oauth === false ? null : linear.oauth.client.clientSecret,
    timeoutMs: 5_000,
  };
  const api = await startTestApi({
    temporal: temporal?.client ?? null,
    config: (config) =>
      linearSettings.with({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: taskQueue } }, linearChanges),
  });
  // The callback URL names the port, known only now; the routers hold this very object.
  linearSettings.of(api.deps.config).redirectUri = `${api.baseUrl}/api/linear/oauth/callback`;
  return Object.assign(api, { taskQueue });
}

export async function createTicket(user: TestUser, subject = 'Printer on fire'): Promise<string> {
  const response = await user.fetch('POST', '/api/tickets', { subject });
  if (response.status !== 201)
    throw new Error(`ticket not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}

/** A link row as the issue workflow records it (the display snapshot in `state.issue`). */
export async function insertLink(input: {
  organizationId: string;
  ticketId: string;
  integrationId: string;
  issue: { id: string; identifier: string; title?: string; url?: string };
  syncStatus?: 'synced' | 'pending' | 'failed';
  lastError?: string;
}): Promise<string> {
  const { db } = testDatabase();
  const url = input.issue.url ?? `https://linear.app/acme/issue/${input.issue.identifier}`;
  const [row] = await db
    .insert(externalSyncRecords)
    .values({
      organizationId: input.organizationId,
      supportRequestId: input.ticketId,
      integrationConfigId: input.integrationId,
      externalId: input.issue.id,
      externalKey: input.issue.identifier,
      externalUrl: url,
      syncStatus: input.syncStatus ?? 'synced',
      lastError: input.lastError ?? null,
      lastSyncAt: new Date(),
      state: {
        issue: {
          id: input.issue.id,
          identifier: input.issue.identifier,
          title: input.issue.title ?? 'An issue',
          url,
          state: { id: 'state-1', name: 'Todo', type: 'unstarted' },
          assignee: { name: 'Grace', email: 'grace@acme.test' },
          priority: 0,
        },
      },
    })
    .returning({ id: externalSyncRecords.id });
  return row!.id;
}

/** The names of the signals a workflow received, in order; [] when it does not exist. */
export async function signalsOf(workflowId: string): Promise<string[]> {
  const temporal = await testTemporal();
  try {
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)
      .filter((name): name is string => typeof name === 'string');
  } catch (error) {
    // fetchHistory surfaces the server's NOT_FOUND (gRPC code 5) as it is.
    if (error instanceof WorkflowNotFoundError || (error as { code?: number }).code === 5) return [];
    throw error;
  }
}

/** A GET with the user's session cookie that does not follow redirects (the OAuth dance is browser navigation). */
export async function navigate(
  api: TestApi,
  user: TestUser | null,
  url: string,
): Promise<{ status: number; location: string | null }> {
  const absolute = url.startsWith('http') ? url : `${api.baseUrl}${url}`;
  const response = await fetch(absolute, {
    redirect: 'manual',
    headers: user && absolute.startsWith(api.baseUrl) ? { cookie: user.cookie } : {},
  });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') };
}
