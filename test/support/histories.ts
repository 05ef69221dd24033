// Recording a workflow's history as a committed fixture (`UPDATE_HISTORY_FIXTURES=1` writes it to test/histories/,
// which test/replay.test.ts replays on every run) and replaying recorded histories with today's workflow bundle.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import protos from '@temporalio/proto';
import { type ReplayHistoriesIterable, Worker, type WorkflowBundle } from '@temporalio/worker';
import { temporalDataConverter } from '../../common/temporal-client.ts';
import { TEST_CODEC_KEYS } from './temporal-keys.ts';

const HISTORIES = fileURLToPath(new URL('../histories/', import.meta.url));
const { History } = protos.temporal.api.history.v1;

export type RecordedHistory = { workflowId: string; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> };

export async function recordHistory(handle: WorkflowHandle, fixtureName: string): Promise<RecordedHistory> {
  const history = await handle.fetchHistory();
  if (process.env.UPDATE_HISTORY_FIXTURES === '1') {
    const json = History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
    writeFileSync(join(HISTORIES, `${fixtureName}.json`), `${JSON.stringify(json, null, 1)}\n`);
  }
  return { workflowId: handle.workflowId, history };
}

/** Each history's workflow id and its replay error, if any (undefined: it replayed). */
export async function replayHistories(
  workflowBundle: WorkflowBundle,
  recorded: RecordedHistory[],
): Promise<Array<[string, string | undefined]>> {
  const results = Worker.runReplayHistories(
    { workflowBundle, dataConverter: temporalDataConverter(TEST_CODEC_KEYS) },
    recorded as ReplayHistoriesIterable,
  );
  const outcomes: Array<[string, string | undefined]> = [];
  for await (const result of results)
    outcomes.push([result.workflowId, result.error ? String(result.error) : undefined]);
  return outcomes;
}
