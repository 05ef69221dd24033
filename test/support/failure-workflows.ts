// A workflow bundle for the failure-encoding test: an activity that fails with user input in its message, and a
// workflow that fails because of it, so both the worker's and the workflow isolate's failure conversion show up in
// the history.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';

export type FailureProbeActivities = { refuse(input: string): Promise<void> };

const { refuse } = proxyActivities<FailureProbeActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function failureProbeWorkflow(input: string): Promise<void> {
  try {
    await refuse(input);
  } catch (error) {
    throw ApplicationFailure.create({
      message: `workflow gave up on ${input}`,
      nonRetryable: true,
      cause: error as Error,
    });
  }
}
