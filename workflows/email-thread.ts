// The outbound side of one ticket's email thread (`email-thread/<ticketId>`), woken by the relay when an agent's
// public comment should go out by email or when mail was queued for the ticket (an acknowledgement, a composer send):
//
//   for each comment: queue its reply (once: the row's source key)
//   send every queued row of the ticket, oldest first (a 5xx fails the row for good and the thread goes on;
//     a 4xx or an unreachable server is retried with backoff until it goes through)
//   wait a while for more work, then end (the next wake starts a new run)
//
// One workflow per ticket keeps replies in the order they were written.
//
// No new work comes here since the organisation's outbox (workflows/email-outbox.ts) took over: it cost three
// activities and a workflow per ticket. It stays registered so that runs started before finish, and its committed
// history (test/histories/email-thread.json) still replays.
import { condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SendActivities } from '../activities/email/send.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import { type EmailThreadInput, type EmailThreadWork, threadWorkSignal } from './email-contract.ts';

const store = proxyActivities<SendActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

const smtp = proxyActivities<SendActivities>({
  // A send that hangs (seen once in the benchmark: nodemailer neither sent nor failed) holds the ticket's thread;
  // a short bound gives it back to the retry. A 25 MB message to a slow server still fits.
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 minutes',
    nonRetryableErrorTypes: ['MailConfigError', 'TicketGone'],
  },
});

/** How long an idle thread stays to take the next reply without a new start. */
const IDLE_WAIT = '10 minutes';
const SENDS_PER_RUN = 200;

class Thread {
  private comments: string[];
  private nudged = true;
  private sends = 0;
  private readonly input: EmailThreadInput;
  constructor(input: EmailThreadInput) {
    this.input = input;
    this.comments = [...(input.pendingCommentIds ?? [])];
    setHandler(threadWorkSignal, (work: EmailThreadWork) => {
      for (const id of work.commentIds) if (!this.comments.includes(id)) this.comments.push(id);
      this.nudged = true;
    });
  }

  async run(): Promise<void> {
    for (;;) {
      while (this.nudged || this.comments.length > 0) {
        this.nudged = false;
        while (this.comments.length > 0) {
          const commentId = this.comments[0]!;
          await store.queueReplyForComment({ ...this.input, commentId });
          this.comments.shift();
        }
        for (const emailId of await store.listQueuedEmails(this.input)) {
          await smtp.sendEmail({ organizationId: this.input.organizationId, emailId });
          this.sends++;
        }
      }
      if (this.sends >= SENDS_PER_RUN || workflowInfo().continueAsNewSuggested)
        return continueAsNewWithHandlersDone<typeof emailThreadWorkflow>(() => [
          {
            organizationId: this.input.organizationId,
            ticketId: this.input.ticketId,
            pendingCommentIds: this.comments,
          },
        ]);
      const more = await condition(() => this.nudged || this.comments.length > 0, IDLE_WAIT);
      if (!more) return;
    }
  }
}

export async function emailThreadWorkflow(input: EmailThreadInput): Promise<void> {
  return new Thread(input).run();
}
