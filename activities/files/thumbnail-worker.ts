// A thumbnail worker thread, started by the pool in thumbnail.ts: decoding and resizing are synchronous (a quarter of
// a second for a 12-megapixel JPEG, seconds for a large PNG), so they must not run on the thread that serves the
// activities.
import { parentPort } from 'node:worker_threads';
import { serveThumbnailJobs } from './thumbnail-render.ts';

if (!parentPort) throw new Error('thumbnail-worker.ts runs as a worker thread of the thumbnail pool');
serveThumbnailJobs(parentPort);
