// The thumbnail worker, with two ways to die on demand for the pool's tests: a job of size 13 exits the thread
// mid-job, one of size 14 throws an uncaught error. Every other job is rendered as the real worker does.
import { parentPort } from 'node:worker_threads';
import type { ThumbnailJob } from './thumbnail-protocol.ts';
import { serveThumbnailJobs } from './thumbnail-render.ts';

if (!parentPort) throw new Error('thumbnail-test-worker.ts runs as a worker thread');
parentPort.on('message', (job: ThumbnailJob) => {
  if (job.size === 13) process.exit(3);
  // Thrown from the listener, ahead of the real one: an uncaught error, as a decoder's callback could throw.
  if (job.size === 14) throw new Error('decoder blew up');
});
serveThumbnailJobs(parentPort);
