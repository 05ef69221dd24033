// Starts the product's own processes (API, worker) for a benchmark, as `npm start` would, with the bench's env.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export type Started = { child: ChildProcess; stop(): Promise<void> };

export async function startProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: (line: string) => boolean,
  /** As `nice -n` gives it; 0 runs the process at the bench's own priority. */
  niceness = 0,
): Promise<Started> {
  const [command, args] =
    niceness === 0 ? [process.execPath, [script]] : ['nice', ['-n', String(niceness), process.execPath, script]];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not become ready in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 20_000) output = output.slice(-20_000);
      if (output.split('\n').some(ready)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${output}`));
    });
  });
  // BENCH_LOG_DIR keeps each process's output (for a look at what the relay or the worker said during a run).
  const logDir = process.env.BENCH_LOG_DIR;
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    const file = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    file.write(output);
    child.stdout!.pipe(file, { end: false });
    child.stderr!.pipe(file, { end: false });
  } else {
    child.stdout!.resume();
    child.stderr!.resume();
  }
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
