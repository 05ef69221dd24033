// The local Linear server (test/fakes/linear) for a benchmark: started in the benchmark's process, the stack's API
// and worker pointed at it, and an installation connected the way an admin connects one.
import { createLinearFake } from '../../test/fakes/linear/server.ts';
import type { apiClient, BenchStack } from './stack.ts';

export type LinearFake = Awaited<ReturnType<typeof createLinearFake>>;

/** Starts the fake and points the stack's processes at it; call before the stack's API and worker start. */
export async function linearFakeFor(stack: BenchStack): Promise<LinearFake> {
  // Benchmarks make far more requests than Linear's hourly budget allows a real credential.
  const linear = await createLinearFake({ requestsPerHour: 1_000_000 });
  Object.assign(stack.env, {
    LINEAR_API_URL: linear.graphqlUrl,
    LINEAR_AUTHORIZE_URL: linear.oauth.authorizeUrl,
    LINEAR_TOKEN_URL: linear.oauth.tokenUrl,
    LINEAR_REVOKE_URL: linear.oauth.revokeUrl,
  });
  return linear;
}

/**
 * Connects Ada's API key as an installation syncing to team ENG with `config` on top of the defaults, and lets the
 * API register Linear's webhook (an API key has the admin scope), so Linear's side of each change comes back too.
 */
export async function installLinear(
  call: ReturnType<typeof apiClient>,
  linear: LinearFake,
  config: Record<string, unknown> = {},
) {
  const installation = await call<{ id: string; config: Record<string, unknown> }>(
    'POST',
    '/api/linear/installations',
    { name: 'Linear (bench)', apiKey: linear.apiKey },
    201,
  );
  const team = linear.state.teamByKey('ENG')!;
  await call('PATCH', `/api/integrations/${installation.id}`, {
    config: { ...installation.config, teamId: team.id, ...config },
  });
  await call('POST', `/api/linear/installations/${installation.id}/webhook`);
  return { installation, team };
}
