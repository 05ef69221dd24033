// The built dashboard for browser tests: `vite build` once, unless dist/ is already newer than every source.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DASHBOARD_PACKAGE = path.resolve(import.meta.dirname, '../../../packages/dashboard');
const DIST = path.join(DASHBOARD_PACKAGE, 'dist');
const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => path.join(DASHBOARD_PACKAGE, p));

async function newestChange(file: string): Promise<number> {
  const info = await stat(file);
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(file);
  const times = await Promise.all(entries.map((entry) => newestChange(path.join(file, entry))));
  return Math.max(info.mtimeMs, ...times);
}

/** Returns the directory holding the built dashboard (index.html and assets/). */
export async function buildDashboard(): Promise<string> {
  const index = path.join(DIST, 'index.html');
  if (existsSync(index)) {
    const built = (await stat(index)).mtimeMs;
    const changed = Math.max(...(await Promise.all(sources.map(newestChange))));
    if (built > changed) return DIST;
  }
  // vite's package exports do not include its bin; find it through package.json.
  const vitePackage = createRequire(path.join(DASHBOARD_PACKAGE, 'package.json')).resolve('vite/package.json');
  const vite = path.join(path.dirname(vitePackage), 'bin', 'vite.js');
  try {
    await run(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: DASHBOARD_PACKAGE });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`vite build of the dashboard failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
  return DIST;
}
