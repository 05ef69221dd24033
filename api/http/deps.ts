import type { Database } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import type { Config } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';

/** What the API needs from the outside world; every router factory receives it. */
export type ApiDeps = {
  db: Database;
  config: Config;
  logger: Logger;
  /** Null when Temporal was unreachable at start: /readyz reports it, workflow-starting routes fail with 503. */
  temporal: Client | null;
  /** Built dashboard files served with SPA fallback (default packages/dashboard/dist). */
  dashboardDir?: string;
};
