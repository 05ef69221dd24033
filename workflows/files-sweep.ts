// The quarantine sweep, run by the schedule `files-sweep/<queue>` (packages/integrations/files/server.ts): one
// activity that removes objects no live attachment claims (activities/files/sweep.ts).
import { proxyActivities } from '@temporalio/workflow';
import type { FilePipelineActivities } from '../activities/files/pipeline.ts';

const { sweepQuarantine } = proxyActivities<FilePipelineActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

export async function filesSweepWorkflow(input: { graceMs: number }) {
  return sweepQuarantine(input);
}
