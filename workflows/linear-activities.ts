// The Linear activities as the Linear workflows call them: which run on the rate-limited Linear queue, which run
// locally next to the workflow, and how each is retried. Workflow code (the proxies need the workflow context).
import { proxyActivities, proxyLocalActivities, type RetryPolicy, workflowInfo } from '@temporalio/workflow';
import { type LinearActivities, linearFailureTypes } from '../activities/linear/contract.ts';
import { linearTaskQueueFor } from './linear-contract.ts';

// Every typed failure but two pauses a link: a rate limit passes by itself, and a link whose row is gone ends.
const { linkNotFound: _ends, rateLimited: _passes, ...pausing } = linearFailureTypes;

/** Failures that no retry fixes: the link pauses until someone reconnects, restores the issue or unlinks. */
export const pausingFailureTypes: readonly string[] = Object.values(pausing);

/** Transient failures back off from 1 s to a minute; the pausing ones are not retried. */
const linearRetryPolicy: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  // A rate-limited attempt fails with the wait its budget needs as its nextRetryDelay, which overrides this.
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...pausingFailureTypes],
};

/**
 * The queue of the Linear activities: the sibling of the ticket queue this workflow runs on (or that queue itself,
 * when the workflow was started on the Linear queue).
 */
export function linearActivityQueue(): string {
  const queue = workflowInfo().taskQueue;
  return queue === 'linear' || queue.endsWith('.linear') ? queue : linearTaskQueueFor(queue);
}

type LinearCallingActivity =
  | 'readLinkSnapshot'
  | 'updateLinearIssue'
  | 'mirrorTicketComment'
  | 'createLinearIssue'
  | 'findAndAttachLinearIssue';

/**
 * The activities that call Linear: on the Linear queue, under its rate limit. The ones that only touch our own
 * database (see linearLocalActivities) do not spend Linear's budget and run as local activities instead.
 */
export function linearActivities(startToCloseTimeout: '10 seconds' | '30 seconds' = '30 seconds') {
  return proxyActivities<Pick<LinearActivities, LinearCallingActivity>>({
    taskQueue: linearActivityQueue(),
    // One Linear request or one transaction each; the SDK's own request timeout is shorter.
    startToCloseTimeout,
    retry: linearRetryPolicy,
  });
}

/**
 * The Linear activities that are one PostgreSQL transaction (or a few signals): run as local activities in the
 * worker that runs the workflow, recorded as markers in its own workflow task. A sync step then costs the Temporal
 * server one activity task per Linear request instead of one per step of the story, which is most of its latency
 * on a busy server.
 */
export function linearLocalActivities(startToCloseTimeout: '10 seconds' | '30 seconds' = '30 seconds') {
  return proxyLocalActivities<Omit<LinearActivities, LinearCallingActivity>>({
    startToCloseTimeout,
    retry: linearRetryPolicy,
  });
}

/** What a link's workflow calls: Linear through the Linear queue, the database locally. */
export function linkActivities() {
  // Activity proxies resolve names on access (they have no own properties to spread), hence one by one.
  const remote = linearActivities();
  const local = linearLocalActivities();
  return {
    readLinkSnapshot: remote.readLinkSnapshot,
    updateLinearIssue: remote.updateLinearIssue,
    mirrorTicketComment: remote.mirrorTicketComment,
    updateTicketFromLinear: local.updateTicketFromLinear,
    recordSyncState: local.recordSyncState,
    markLinkFailed: local.markLinkFailed,
    markLinkPending: local.markLinkPending,
    importLinearComment: local.importLinearComment,
  };
}

export type LinkActivities = ReturnType<typeof linkActivities>;
