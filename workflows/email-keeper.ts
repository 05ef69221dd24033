// Run by the schedule `email-mailboxes/<queue>` (packages/integrations/email/server.ts): one activity that starts
// the reader of any active mailbox whose reader is not running (activities/email/keeper.ts).
import { proxyActivities } from '@temporalio/workflow';
import type { KeeperActivities } from '../activities/email/keeper.ts';

const { ensureMailboxReaders } = proxyActivities<KeeperActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3 },
});

export async function emailMailboxKeeperWorkflow(): Promise<number> {
  return ensureMailboxReaders();
}
