// Mocha root hooks: one fresh database per run; services other tests need are started by their own helpers
// (test/support/temporal.ts) and stopped here.
import './test-env.ts';
import { closeTestDatabase, createFreshTestDatabase } from './database.ts';

const cleanups: Array<() => Promise<void>> = [];
/** Registers something to stop once every test has run (a Temporal server, a worker, ...). */
export function afterRun(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await createFreshTestDatabase();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error('cleanup failed', e));
    await closeTestDatabase();
  },
};
