// The V8 flags the worker and API processes run with, wherever they are started (docker-compose.yml, the Dockerfile,
// scripts/start.sh, the benchmarks' stack); test/architecture.test.ts checks that each of them passes exactly these.
//
// A smaller young generation: V8 sizes each isolate's semi-spaces from the machine's memory (64 MB each here, so
// 128 MB of new space in the main thread and again in every workflow thread), nearly all of it garbage a scavenge
// would have freed long before. At 16 MB the soak's worker stayed at 330–356 MB instead of 430 MB and rising, with
// event → delivery p99 54 ms (specification/performance.md, "Worker footprint").
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=16'] as const;

/**
 * The API's: a smaller young generation still. Measured with `npm run bench -- files`: at 16 MB the API's RSS after
 * start went from 409–423 MB to 269 MB, and its peak while ten 25 MB uploads stream at once from 572–592 MB to
 * 355–387 MB; at 2 MB the peak is 270–283 MB and the CPU per 25 MB upload 154–162 ms instead of 364–380 ms (an upload
 * leaves about twice its size in short-lived buffers, which a large young generation lets pile up until a full
 * collection), for a few percent on ticket creation's p50 (specification/performance.md, "Attachments").
 */
export const API_NODE_FLAGS = ['--max-semi-space-size=2'] as const;

/**
 * The worker's CPU priority where it shares a host with the API: a niceness of 10 (`nice -n 10` in
 * scripts/start.sh and the benchmarks' stack; `cpu_shares: 128` for its container in docker-compose.yml, about the
 * same weight against the API's 1,024). The worker's work is background work: when both want a core at the same
 * moment, the request a person is waiting for goes first, and the relay's batch a few milliseconds later. Measured
 * with `npm run bench -- core` (its latency part): the median of the rounds' ratios of ticket create p99 at 50/s,
 * relay running over relay stopped, was 1.46 at niceness 0 (24 rounds) and 1.20 at 10 (18 rounds), the outbox lag
 * in the same range; the webhook engine still beat its BullMQ peer (specification/performance.md, "three
 * statements a batch").
 * The cost: while the API keeps both cores busy, the worker gets about a tenth of the CPU (its activities' timeouts
 * and heartbeats are seconds, far above what that delays them by at the rates measured).
 */
export const WORKER_NICENESS = 10;
