// The inbox of one email integration (`email-mailbox/<integrationId>`): it reads the mailbox for as long as the
// integration is active. Its state is the mailbox position, UIDVALIDITY and the last UID ingested, so nothing is
// fetched twice or skipped across worker restarts; the activity does the reading (activities/email/mailbox.ts):
//
//   poll (connect, resync if UIDVALIDITY changed, ingest past lastUid, IDLE until mail or a few minutes pass)
//     │ polled: keep the new position, loop (continue as new every so often)
//     │ stopped (switched off, deleted, no IMAP): end
//
// A server that is down or refuses the password is retried with backoff without end; the integration's health says
// why (in the server's words) while it waits, and the Temporal Web UI shows the pending activity's last failure and
// next attempt. Changing the settings signals `mailboxReconfigured`: the current connection is cancelled and the
// next one uses them.
import {
  ActivityCancellationType,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { MailboxActivities } from '../activities/email/mailbox.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import { type EmailMailboxInput, mailboxReconfiguredSignal } from './email-contract.ts';

const { pollMailbox } = proxyActivities<MailboxActivities>({
  // One call holds the connection for EMAIL_IDLE_SECONDS (5 minutes by default) plus the batch it ingests.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: ['MailConfigError'],
  },
});

/** Rounds per run before continuing as new: each is a few events, so a run's history stays small. */
const ROUNDS_PER_RUN = 100;

class Mailbox {
  position: Pick<EmailMailboxInput, 'uidValidity' | 'lastUid'>;
  private round: CancellationScope | undefined;
  private readonly input: EmailMailboxInput;
  constructor(input: EmailMailboxInput) {
    this.input = input;
    this.position = { uidValidity: input.uidValidity, lastUid: input.lastUid };
    setHandler(mailboxReconfiguredSignal, () => this.round?.cancel());
  }

  async run(): Promise<string> {
    for (let rounds = 0; rounds < ROUNDS_PER_RUN && !workflowInfo().continueAsNewSuggested; rounds++) {
      this.round = new CancellationScope();
      try {
        const result = await this.round.run(() => pollMailbox({ ...this.input, ...this.position }));
        if (result.kind === 'stopped') return result.reason;
        this.position = { uidValidity: result.uidValidity, lastUid: result.lastUid };
      } catch (error) {
        // Reconfigured: start over with the new settings (the ingested messages are in the ledger either way). An
        // operator cancelling the workflow itself ends it.
        if (!isCancellation(error) || CancellationScope.current().consideredCancelled) throw error;
      } finally {
        this.round = undefined;
      }
    }
    return continueAsNewWithHandlersDone<typeof emailMailboxWorkflow>(() => [{ ...this.input, ...this.position }]);
  }
}

export async function emailMailboxWorkflow(input: EmailMailboxInput): Promise<string> {
  return new Mailbox(input).run();
}
