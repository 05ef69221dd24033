// An endpoint's delivery limits, shared by the API's validation, the delivery engine and the dashboard's form.
//
// The ceiling of the rate limit is high on purpose: a receiver built for volume (an ingestion service, a queue's
// HTTP front) may take thousands of requests a second, and an endpoint is then bound by its concurrency cap and the
// engine's own speed rather than by a pacing it never asked for (Svix lets an endpoint have no rate limit at all).
// The default stays low, for receivers that never said what they can take.
export const DEFAULT_RATE_LIMIT_PER_SECOND = 50;
export const MAX_RATE_LIMIT_PER_SECOND = 10_000;
export const DEFAULT_MAX_CONCURRENCY = 10;
export const MAX_CONCURRENCY = 100;
