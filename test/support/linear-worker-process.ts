// A Linear worker in a process of its own (see startKillableLinearWorker): a test can SIGKILL it mid-activity, which is
// a crash — no shutdown, no cancellation, the running activity's result never reported — not a graceful stop.
import './test-env.ts';
import { connectDatabase } from '@switchboard/database';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createLogger } from '../../common/logger.ts';
import { connectTemporalClient } from '../../common/temporal-client.ts';
import { loadServiceConfig } from '../../packages/integrations/index.ts';
import { linearServer } from '../../packages/integrations/linear/server.ts';
import { type LinearSettings, linearSettings } from '../../packages/integrations/linear/settings.ts';
import { createQueueWorker } from '../../worker/create-worker.ts';
import { TEST_CODEC_KEYS } from './temporal-keys.ts';

export type LinearWorkerProcessSettings = {
  address: string;
  namespace: string;
  databaseUrl: string;
  /** The run's tickets queue: the Linear queue is derived from it as in production. */
  ticketsTaskQueue: string;
  publicUrl: string;
  linear: LinearSettings;
};

const settings = JSON.parse(process.env.SWITCHBOARD_TEST_LINEAR_WORKER ?? 'null') as LinearWorkerProcessSettings;
if (!settings) throw new Error('SWITCHBOARD_TEST_LINEAR_WORKER is not set');

// Quiet like the test run's in-process workers; errors still reach the test's output.
Runtime.install({ logger: new DefaultLogger('ERROR') });
const database = connectDatabase(settings.databaseUrl, 4);
const temporal = await connectTemporalClient({
  address: settings.address,
  namespace: settings.namespace,
  codecKeys: TEST_CODEC_KEYS,
});
const config = linearSettings.with({ ...loadServiceConfig(), publicUrl: settings.publicUrl }, settings.linear);
const [spec] =
  linearServer.workers?.({ db: database.db, config, logger: createLogger('error'), temporal: temporal.client }) ?? [];
const worker = await createQueueWorker(
  {
    connection: await NativeConnection.connect({ address: settings.address }),
    namespace: settings.namespace,
    codecKeys: TEST_CODEC_KEYS,
  },
  spec!,
  settings.ticketsTaskQueue,
);
const run = worker.run();
// The parent waits for this line before it makes the change this worker is to die in the middle of.
process.stdout.write('linear worker running\n');
await run;
