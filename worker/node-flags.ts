// The V8 flags the worker process runs with, wherever it is started (docker-compose.yml, scripts/start.sh, the
// benchmarks' stack); test/architecture.test.ts checks that each of them passes exactly these.
//
// A smaller young generation: V8 sizes each isolate's semi-spaces from the machine's memory (64 MB each here, so
// 128 MB of new space in the main thread and again in every workflow thread), nearly all of it garbage a scavenge
// would have freed long before. At 16 MB the soak's worker stayed at 330–356 MB instead of 430 MB and rising, with
// event → delivery p99 54 ms (specification/performance.md, "Worker footprint").
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=16'] as const;
