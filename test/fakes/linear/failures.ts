// Switches that make the next requests fail the ways Linear (or the network in front of it) can: rate limited,
// a 500, no answer at all, a cut connection. Each switch is consumed by the requests it affects, in order.
export type FailureTarget = 'graphql' | 'oauth-token';
export type Failure =
  | { kind: 'ratelimited'; resetInMs: number }
  | { kind: 'status'; status: number }
  | { kind: 'hang' }
  | { kind: 'drop' };

export class FailureSwitches {
  private readonly queues: Record<FailureTarget, Failure[]> = { graphql: [], 'oauth-token': [] };

  /** The next `count` GraphQL requests get Linear's RATELIMITED answer (HTTP 400, `extensions.code: RATELIMITED`). */
  rateLimitNext(count = 1, options: { resetInMs?: number } = {}): void {
    for (let i = 0; i < count; i++)
      this.queues.graphql.push({ kind: 'ratelimited', resetInMs: options.resetInMs ?? 60_000 });
  }

  /** The next `count` requests answer with this HTTP status (default 500, Linear's internal error body). */
  failNext(count = 1, options: { status?: number; target?: FailureTarget } = {}): void {
    for (let i = 0; i < count; i++)
      this.queues[options.target ?? 'graphql'].push({ kind: 'status', status: options.status ?? 500 });
  }

  /** The next `count` requests are accepted and never answered (until the fake closes): the caller's timeout fires. */
  hangNext(count = 1, options: { target?: FailureTarget } = {}): void {
    for (let i = 0; i < count; i++) this.queues[options.target ?? 'graphql'].push({ kind: 'hang' });
  }

  /** The next `count` requests have their connection cut without an answer. */
  dropConnectionNext(count = 1, options: { target?: FailureTarget } = {}): void {
    for (let i = 0; i < count; i++) this.queues[options.target ?? 'graphql'].push({ kind: 'drop' });
  }

  take(target: FailureTarget): Failure | undefined {
    return this.queues[target].shift();
  }

  clear(): void {
    this.queues.graphql.length = 0;
    this.queues['oauth-token'].length = 0;
  }
}
