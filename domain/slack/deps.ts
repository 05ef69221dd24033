// What the Slack domain code needs from the service: the database, the credential keys, the module's settings, the
// public URL (links into the dashboard) and Temporal (to resume a workspace's paused work).
import type { Database } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import type { KeyRing } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';
import type { SlackSettings } from '../../packages/integrations/slack/settings.ts';

export type SlackDeps = {
  db: Database;
  keys: KeyRing;
  settings: SlackSettings;
  publicUrl: string;
  logger: Logger;
  temporal: Client | null;
  ticketsTaskQueue: string;
};
