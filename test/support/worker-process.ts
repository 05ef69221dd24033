// A worker in a process of its own, which a test can SIGKILL in the middle of an activity: a crash (no shutdown, no
// cancellation, the running activity's result never reported), not a graceful stop. The child prints `readyLine`
// once its worker runs; the process is killed at the end of the run if the test did not.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterRun } from './root-hooks.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type KillableProcess = { kill(): Promise<void> };

export async function spawnWorkerProcess(options: {
  /** The child's script, from the repository's root. */
  script: string;
  env: NodeJS.ProcessEnv;
  readyLine: string;
}): Promise<KillableProcess> {
  const child = spawn(process.execPath, [`${ROOT}${options.script}`], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  afterRun(kill);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(`${options.readyLine}\n`)) resolve();
    });
    void exited.then(() => reject(new Error(`${options.script} exited before its worker ran: ${out}`)));
  });
  return { kill };
}
