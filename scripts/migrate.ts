// Creates the database if needed and applies committed migrations. Idempotent; run at every start.
import { connectDatabase, DEFAULT_DATABASE_URL, ensureDatabaseExists, runMigrations } from '@switchboard/database';

const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
await ensureDatabaseExists(url);
const handle = connectDatabase(url, 1);
try {
  await runMigrations(handle.db);
  console.log(`migrated ${new URL(url).pathname.slice(1)}`);
} finally {
  await handle.close();
}
