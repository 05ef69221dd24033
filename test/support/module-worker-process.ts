// One integration module's worker in a process of its own, so a test can SIGKILL it in the middle of an activity (a
// pipeline step, a mailbox read): a crash, no shutdown, the running activity's result never reported. The module is
// SWITCHBOARD_TEST_MODULE (its integration type, found in the list); settings come from the environment like a real
// worker's, the queue from SWITCHBOARD_TEST_QUEUE (the run's tickets queue).
import './test-env.ts';
import { connectDatabase } from '@switchboard/database';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createLogger } from '../../common/logger.ts';
import { connectTemporalClient } from '../../common/temporal-client.ts';
import { integrations, loadServiceConfig } from '../../packages/integrations/index.ts';
import { createQueueWorker } from '../../worker/create-worker.ts';
import { TEST_CODEC_KEYS } from './temporal-keys.ts';

const address = process.env.SWITCHBOARD_TEST_TEMPORAL_ADDRESS!;
const namespace = process.env.SWITCHBOARD_TEST_TEMPORAL_NAMESPACE!;
const ticketsTaskQueue = process.env.SWITCHBOARD_TEST_QUEUE!;
const type = process.env.SWITCHBOARD_TEST_MODULE!;
const databaseUrl = process.env.SWITCHBOARD_TEST_DATABASE_URL!;

Runtime.install({ logger: new DefaultLogger('ERROR') });
const database = connectDatabase(databaseUrl, 4);
const temporal = await connectTemporalClient({ address, namespace, codecKeys: TEST_CODEC_KEYS });
const [spec] =
  (await integrations.find((definition) => definition.type === type)!.server()).workers?.({
    db: database.db,
    config: loadServiceConfig(),
    logger: createLogger('error'),
    temporal: temporal.client,
  }) ?? [];
const worker = await createQueueWorker(
  { connection: await NativeConnection.connect({ address }), namespace, codecKeys: TEST_CODEC_KEYS },
  spec!,
  ticketsTaskQueue,
);
const run = worker.run();
process.stdout.write(`${type} worker running\n`);
await run;
