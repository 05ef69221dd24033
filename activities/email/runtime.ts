// What the email code needs at run time, built once per process config: the ingest's dependencies (the attachment
// intake, the DNS resolver for authentication checks) and the module's settings. The worker's mailbox readers and
// the API's inbound webhook share the same shape.
import type { ServiceDeps } from '../../common/integration-contract.ts';
import { emailSettings } from '../../packages/integrations/email/settings.ts';
import { filesRuntime } from '../files/runtime.ts';
import { mailAuthResolver } from './authenticate.ts';
import type { MailboxDeps } from './mailbox.ts';

const runtimes = new WeakMap<object, MailboxDeps>();

export function emailMailboxReaderOf(deps: Pick<ServiceDeps, 'db' | 'config'>): MailboxDeps {
  let runtime = runtimes.get(deps.config);
  if (!runtime) {
    const settings = emailSettings.of(deps.config);
    runtime = {
      db: deps.db,
      credentialKeys: deps.config.credentialKeys,
      intake: filesRuntime(deps).intake,
      resolver: mailAuthResolver(settings.dnsServers),
      maxMessageBytes: settings.maxMessageBytes,
      settings,
      mta: new URL(deps.config.publicUrl).hostname,
    };
    runtimes.set(deps.config, runtime);
  }
  return runtime;
}
