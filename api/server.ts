// The API process: config, database, Temporal (when reachable), HTTP. Stops cleanly on SIGTERM/SIGINT.
import { connectDatabase } from '@switchboard/database';
import { createLogger } from '../common/logger.ts';
import { connectTemporalClient, type TemporalClientHandle } from '../common/temporal-client.ts';
import { startIntegrationHealthSampler } from '../domain/integrations/health/sample.ts';
import { loadIntegrationServers, loadServiceConfig } from '../packages/integrations/index.ts';
import { createApp } from './app.ts';

const config = loadServiceConfig();
const logger = createLogger(config.logLevel, 'switchboard-api');
const database = connectDatabase(config.databaseUrl);

let temporal: TemporalClientHandle | null = null;
try {
  temporal = await connectTemporalClient({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    codecKeys: config.codecKeys,
  });
} catch (error) {
  // Serve anyway: reads work without Temporal, and /readyz says what is missing.
  logger.warn({ err: error, address: config.temporal.address }, 'Temporal is unreachable; starting without it');
}

const app = await createApp({ db: database.db, config, logger, temporal: temporal?.client ?? null });
// Integration health is sampled every minute, so a failure reaches the admins with nobody looking at the monitor.
const healthSampler = startIntegrationHealthSampler(
  { db: database.db, config, logger, temporal: temporal?.client ?? null },
  await loadIntegrationServers(),
);
const server = app.listen(config.port, () => {
  logger.info({ port: config.port, publicUrl: config.publicUrl, temporal: temporal !== null }, 'API listening');
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  // Let in-flight requests finish, but not forever.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(resolve, 10_000).unref();
  });
  await healthSampler.stop();
  await temporal?.close().catch((error: unknown) => logger.warn({ err: error }, 'closing Temporal failed'));
  await database.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
