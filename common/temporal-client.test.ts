import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { FailureProbeActivities } from '../test/support/failure-workflows.ts';
import { type TestTemporal, testTemporal, uniqueTaskQueue } from '../test/support/temporal.ts';
import { bundleWorkflows } from '../worker/create-worker.ts';
import { temporalDataConverter } from './temporal-client.ts';

/** Every string and byte string in a history, as text: what someone reading Temporal's database would see. */
function readableText(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('latin1'));
  else if (value && typeof value === 'object') for (const v of Object.values(value)) readableText(v, out);
  return out;
}

describe('the Temporal data converter', function () {
  this.timeout(90_000);
  let temporal: TestTemporal;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('failures');

  before(async () => {
    temporal = await testTemporal();
    connection = await NativeConnection.connect({ address: temporal.address });
    const activities: FailureProbeActivities = {
      async refuse(input) {
        throw ApplicationFailure.nonRetryable(`no issue matches ${input}`);
      },
    };
    worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await bundleWorkflows(
        fileURLToPath(new URL('../test/support/failure-workflows.ts', import.meta.url)),
      ),
      activities,
      dataConverter: temporalDataConverter(temporal.codecKeys),
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
  });

  it('stores failure messages and stacks encrypted: readable with the codec, not in the raw history', async () => {
    const secret = `ENG-${randomUUID()}`;
    const workflowId = `failure-probe-${randomUUID()}`;
    const failed = await temporal.client.workflow
      .execute('failureProbeWorkflow', { workflowId, taskQueue, args: [secret] })
      .then(
        () => assert.fail('the workflow should fail'),
        (error: unknown) => error,
      );
    // With the codec, clients still read what went wrong.
    assert.ok(failed instanceof WorkflowFailedError);
    const messages: string[] = [];
    for (let e: unknown = failed.cause; e instanceof Error; e = e.cause) messages.push(e.message);
    assert.deepEqual(messages.slice(0, 1), [`workflow gave up on ${secret}`]);
    assert.ok(messages.includes(`no issue matches ${secret}`), messages.join(' / '));

    // Without it (Temporal's database, its UI without the codec server), neither message nor stack is readable.
    const raw = await Connection.connect({ address: temporal.address });
    try {
      const { history } = await raw.workflowService.getWorkflowExecutionHistory({
        namespace: temporal.namespace,
        execution: { workflowId },
      });
      const events = history?.events ?? [];
      const activityFailure = events.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes
        ?.failure;
      const workflowFailure = events.find((e) => e.workflowExecutionFailedEventAttributes)
        ?.workflowExecutionFailedEventAttributes?.failure;
      for (const failure of [activityFailure, workflowFailure]) {
        assert.ok(failure, 'the history records both failures');
        assert.equal(failure.message, 'Encoded failure');
        assert.equal(failure.stackTrace, '');
        assert.equal(Buffer.from(failure.encodedAttributes?.metadata?.encoding ?? []).toString(), 'binary/encrypted');
      }
      const text = readableText(history).join('\n');
      assert.equal(text.includes(secret), false, 'the Linear identifier is nowhere in the raw history');
    } finally {
      await raw.close();
    }
  });
});
