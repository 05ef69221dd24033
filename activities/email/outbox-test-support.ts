// What the outbox's activity tests share: the send activities' dependencies for a loopback SMTP server, and a mailbox
// row of an organisation that can send (its address unique per call).
import { randomUUID } from 'node:crypto';
import { type Database, integrationConfigs } from '@switchboard/database';
import { loadConfig } from '../../common/config.ts';
import type { SendDeps } from './send.ts';

/** Loopback allowed, no TLS required, no file stores: `timeoutMs` bounds each SMTP step. */
export function loopbackSendDeps(db: Database, timeoutMs: number): SendDeps {
  return {
    db,
    credentialKeys: loadConfig().credentialKeys,
    settings: {
      allowCidrs: ['127.0.0.0/8'],
      allowInsecure: true,
      dnsServers: [],
      maxMessageBytes: 1024 * 1024,
      idleSeconds: 5,
      fetchBatch: 10,
      timeoutMs,
    },
    stores: {},
  } as unknown as SendDeps;
}

/** An active email integration of the organisation sending through `host:port` without TLS. */
export async function sendingMailbox(
  db: Database,
  organizationId: string,
  smtp: { host: string; port: number },
): Promise<{ id: string; address: string }> {
  const id = randomUUID();
  const address = `desk-${id.slice(0, 8)}@support.test`;
  await db.insert(integrationConfigs).values({
    id,
    organizationId,
    integrationType: 'email',
    name: 'Support',
    isActive: true,
    config: { address, smtp: { ...smtp, security: 'none' } },
  });
  return { id, address };
}
