// Answering the person who did something in Slack, only them: through the interaction's response_url (only to the
// Slack host the deployment allows, so a forged payload cannot make us post elsewhere), or as an ephemeral message
// in the channel. The words are the inbound row's outcome, read here so they never pass through workflow history.
import { slackInbound } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import type { SlackInboundPayload } from '../../common/slack/inbound.ts';
import { workspaceOf } from '../../domain/slack/installations.ts';
import { assertConnected, callSlack } from './client.ts';
import type { DeliverDeps } from './deliver.ts';

export function allowedResponseUrl(url: string | undefined, hosts: readonly string[]): URL | null {
  if (!url) return null;
  const parsed = URL.parse(url);
  if (!parsed || parsed.username || parsed.password) return null;
  // A host listed bare allows its default port only; one listed with a port, that port only.
  const hostPort = parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.hostname;
  if (!hosts.includes(hostPort)) return null;
  // Slack's own are https; a deployment that lists a local stand-in (tests) may use http for it.
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && hosts.includes(hostPort))) return null;
  return parsed;
}

export async function respondToSlack(
  deps: DeliverDeps,
  ref: { organizationId: string; integrationId: string; inboundId: string },
): Promise<void> {
  const [row] = await deps.db
    .select()
    .from(slackInbound)
    .where(and(eq(slackInbound.id, ref.inboundId), eq(slackInbound.organizationId, ref.organizationId)));
  if (!row?.outcome) return;
  const payload = row.payload as SlackInboundPayload;
  const text = row.status === 'refused' ? `:no_entry_sign: ${row.outcome}` : row.outcome;
  const url = allowedResponseUrl(payload.responseUrl, deps.settings.responseUrlHosts);
  if (url) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
      signal: AbortSignal.timeout(deps.settings.timeoutMs),
      // Slack answers its response_url itself; a redirect would lead somewhere the allow-list never saw.
      redirect: 'manual',
    });
    // Slack answers 404 once a response_url has expired (30 minutes) or been used 5 times: nobody to tell.
    if (response.status >= 500) throw new Error(`Slack's response_url answered ${response.status}`);
    return;
  }
  if (!payload.channelId) return;
  const workspace = await workspaceOf(deps, ref.organizationId, ref.integrationId);
  assertConnected(workspace);
  const client = await deps.clients.forWorkspace(workspace);
  await callSlack(deps, workspace, 'chat.postEphemeral', () =>
    client.chat.postEphemeral({
      channel: payload.channelId!,
      user: payload.slackUserId,
      text,
      ...(payload.threadTs ? { thread_ts: payload.threadTs } : {}),
    }),
  );
}
