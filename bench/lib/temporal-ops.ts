// Temporal operations counted from workflow histories, for the core benchmark's cost-per-event table. Histories are
// the server's own record of what it did for us, whichever server it is (dev server or PostgreSQL-backed), so the
// same count works on both without reading either one's metrics.
//
// What counts as one operation:
//   start          a WorkflowExecutionStarted that is not a continuation (a Signal-With-Start that started the run,
//                  a plain start, a child); a continue-as-new is counted apart
//   signal         a WorkflowExecutionSignaled (a Signal-With-Start that found the run running is only this)
//   workflow task  a WorkflowTaskStarted (a task handed to a worker)
//   activity task  an ActivityTaskScheduled (its retries are counted apart, from the attempt of its start event)
//   local activity a core_local_activity marker: it runs inside a workflow task, so it costs no task of its own
//   timer          a TimerStarted
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import protos from '@temporalio/proto';

type HistoryEvent = protos.temporal.api.history.v1.IHistoryEvent;
const T = protos.temporal.api.enums.v1.EventType;

/** The TypeScript and Rust SDKs' marker name for a local activity's result (sdk-core's LOCAL_ACTIVITY_MARKER_NAME). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export type OpCounts = {
  starts: number;
  signals: number;
  workflowTasks: number;
  activityTasks: number;
  localActivities: number;
  timers: number;
  continuedAsNew: number;
  activityRetries: number;
  workflowTaskFailures: number;
};

export type OpReport = {
  total: OpCounts;
  /** The same counts per workflow type, so an operation that no scenario should cause shows where it came from. */
  byWorkflowType: Map<string, OpCounts>;
  signalsByName: Map<string, number>;
  /** Failed and timed-out workflow tasks by cause: work done twice, and a sign of trouble worth a look. */
  problems: Map<string, number>;
  /** Executions with at least one event in the window. */
  executions: number;
};

export type Window = { fromMs: number; toMs: number };

export const emptyCounts = (): OpCounts => ({
  starts: 0,
  signals: 0,
  workflowTasks: 0,
  activityTasks: 0,
  localActivities: 0,
  timers: 0,
  continuedAsNew: 0,
  activityRetries: 0,
  workflowTaskFailures: 0,
});

export function eventTimeMs(event: HistoryEvent): number {
  const t = event.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : Number.NaN;
}

/**
 * Adds the operations of one history's events that fall inside the window (inclusive) to `counts`; returns whether
 * any event did, and passes each signal's name to `onSignal`.
 */
export function countOps(
  events: readonly HistoryEvent[],
  window: Window,
  counts: OpCounts,
  onSignal: (name: string) => void = () => {},
  onProblem: (what: string) => void = () => {},
): boolean {
  let touched = false;
  for (const event of events) {
    const at = eventTimeMs(event);
    if (!(at >= window.fromMs && at <= window.toMs)) continue;
    touched = true;
    switch (event.eventType) {
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        if (event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId) counts.continuedAsNew += 1;
        else counts.starts += 1;
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        counts.signals += 1;
        onSignal(event.workflowExecutionSignaledEventAttributes?.signalName ?? '?');
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        counts.workflowTasks += 1;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        counts.workflowTaskFailures += 1;
        onProblem(`workflow task failed: ${causeName(event.workflowTaskFailedEventAttributes?.cause)}`);
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        counts.workflowTaskFailures += 1;
        onProblem(`workflow task timed out: ${timeoutName(event.workflowTaskTimedOutEventAttributes?.timeoutType)}`);
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        counts.activityTasks += 1;
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        counts.activityRetries += Math.max(0, (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
        break;
      case T.EVENT_TYPE_MARKER_RECORDED:
        if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) counts.localActivities += 1;
        break;
      case T.EVENT_TYPE_TIMER_STARTED:
        counts.timers += 1;
        break;
    }
  }
  return touched;
}

const causeName = (cause: number | null | undefined) =>
  (protos.temporal.api.enums.v1.WorkflowTaskFailedCause[cause ?? 0] ?? String(cause)).replace(
    'WORKFLOW_TASK_FAILED_CAUSE_',
    '',
  );
const timeoutName = (type: number | null | undefined) =>
  (protos.temporal.api.enums.v1.TimeoutType[type ?? 0] ?? String(type)).replace('TIMEOUT_TYPE_', '');

export function addCounts(into: OpCounts, from: OpCounts): void {
  for (const key of Object.keys(into) as Array<keyof OpCounts>) into[key] += from[key];
}

/**
 * Every operation of the namespace inside the window: the executions that were running or closed after it began,
 * each one's whole history, only the events stamped inside the window. Call it after `settle`, so that the window's
 * work is finished and visible.
 */
export async function opsInWindow(client: Client, window: Window): Promise<OpReport> {
  const total = emptyCounts();
  const byWorkflowType = new Map<string, OpCounts>();
  const signalsByName = new Map<string, number>();
  const problems = new Map<string, number>();
  let executions = 0;
  const since = new Date(window.fromMs).toISOString();
  const listed = client.workflow.list({ query: `ExecutionStatus = "Running" OR CloseTime >= "${since}"` });
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of listed) infos.push(info);
  // A few at a time: a scenario can touch a few hundred executions, and the server shares the machine.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < infos.length) {
        const info = infos[next++]!;
        const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
        const counts = emptyCounts();
        const touched = countOps(
          history.events ?? [],
          window,
          counts,
          (name) => signalsByName.set(name, (signalsByName.get(name) ?? 0) + 1),
          (what) => problems.set(what, (problems.get(what) ?? 0) + 1),
        );
        if (!touched) continue;
        executions += 1;
        addCounts(total, counts);
        const ofType = byWorkflowType.get(info.type) ?? emptyCounts();
        addCounts(ofType, counts);
        byWorkflowType.set(info.type, ofType);
      }
    }),
  );
  return { total, byWorkflowType, signalsByName, problems, executions };
}

/**
 * Waits until Temporal has nothing left to do for what came before: no running execution with a pending workflow
 * task or activity, and the running executions' history lengths unchanged over two looks a second apart (a signal
 * on its way, a run just started and not yet visible, or a retry's backoff shows up as a change).
 */
export async function settle(client: Client, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const infos: WorkflowExecutionInfo[] = [];
    for await (const info of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) infos.push(info);
    let busy = 0;
    let events = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < infos.length) {
          const info = infos[next++]!;
          const { raw } = await client.workflow.getHandle(info.workflowId, info.runId).describe();
          if (raw.pendingWorkflowTask || (raw.pendingActivities?.length ?? 0) > 0) busy += 1;
          events += Number(raw.workflowExecutionInfo?.historyLength ?? 0);
        }
      }),
    );
    const now = `${infos.length}/${events}`;
    if (busy === 0 && now === last) return;
    if (Date.now() > deadline) throw new Error(`Temporal did not settle: ${busy} executions busy, ${now}`);
    last = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
