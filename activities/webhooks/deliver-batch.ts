// One batch of an endpoint's due deliveries: the activity the endpoint workflow calls in a loop, so Temporal's
// history grows per batch, never per delivery. It starts with one statement (the endpoint, its credentials and
// version, the retry policy, the listener row), then runs in rounds, in two lanes that share the endpoint's
// concurrency (so one lane's requests are on the wire while the other's database round trip runs); in each lane:
//
//   claim due deliveries (one window, the lane's share of maxConcurrency; up to WINDOWS_PER_CLAIM windows once the
//   receiver answers fast): a lease, attempt_count + 1, and an attempt row `sending` for each
//   → send them through the window, each as one ends (and no sooner than its slot of the rate limit)
//   → record every outcome, in the same statement that claims the next round.
//
// So a round costs one database round trip whatever the concurrency, and nothing is on the wire that the database
// does not show as `sending`: a worker that dies mid-round leaves `sending` attempts (outcome unknown: on the wire or
// still waiting for the window), never a silent duplicate. Every outcome write is fenced by the attempt number: an
// attempt that lost its lease (its deliveries were claimed again by a newer attempt) records its own attempt row but
// never overwrites the delivery.
//
// A batch never outlives its activity: no round starts unless its worst case (rate-limit pacing + one request
// timeout per window) ends, and its outcomes can be written, before the activity's start-to-close timeout; it stops
// claiming and sending as soon as Temporal cancels it (timed out, heartbeat lost, worker shutting down); and the
// leases of a round are renewed while it is on the wire or waits for the window, after a cancel too, so a retry of
// the activity never claims a delivery still on the wire.
import type { Database } from '@switchboard/database';
import { sql } from 'drizzle-orm';
import { mapLimited } from '../../common/concurrency.ts';
import type { KeyRing } from '../../common/config.ts';
import { truncateText } from '../../common/text.ts';
import { type AttemptOutcome, classifyAttempt } from '../../common/webhooks/attempt-outcome.ts';
import { attemptStartLag } from '../../common/webhooks/attempt-window.ts';
import { MAX_CONCURRENCY } from '../../common/webhooks/endpoint-limits.ts';
import { nextRetryDelay, type RetryPolicy, retryPolicy } from '../../common/webhooks/retry-schedule.ts';
import { secretsInEffect } from '../../common/webhooks/standard-webhooks.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import { type DeliveryAttempt, deliverWebhook } from '../http/deliver-webhook.ts';
import type { SafePoster } from '../http/safe-post.ts';
import type { DeliveryNotifications } from './delivery-notifications.ts';
import { type DeliveryEndpoint, loadBatchSetup } from './endpoint.ts';
import { type Claimed, directRounds, type OutcomeRow, type RoundRunner, runRoundStatement } from './round-statement.ts';

export type DeliverBatchInput = {
  endpointId: string;
  organizationId: string;
  /** Deliveries this batch (one activity) may claim in total, over all its rounds. */
  maxBatch: number;
};

export type DeliverBatchResult = {
  /** `deleted`: the endpoint is gone and its workflow should end; `disabled`: nothing is sent until re-enabled. */
  endpoint: 'active' | 'disabled' | 'deleted';
  sent: number;
  succeeded: number;
  /** Deliveries are due right now (a full batch, or some released unsent): run the next batch at once. */
  more: boolean;
  /** Epoch ms of the earliest pending delivery that is not due yet (retry or lease), or null when none. */
  nextDueAt: number | null;
  /** Set when the receiver asked for a pause (429, 503 with Retry-After): nothing is sent to it before then. */
  throttledUntil?: number;
};

export type BatchDeps = {
  db: Database;
  credentialKeys: KeyRing;
  poster: SafePoster;
  /** The poster's request timeout: the longest a request of a round can stay on the wire. */
  timeoutMs: number;
  /** Divides every retry wait (tests only; 1 in production). */
  retryCompression: number;
  /** Added to every lease beyond its round's worst case, and kept free at the end of the activity's time. */
  leaseMarginMs: number;
  /** Tells Temporal the batch is alive (activity heartbeat). If it throws, the batch stops as if cancelled. */
  heartbeat: () => void;
  /** Aborted when Temporal cancels the activity (timed out, heartbeat lost, worker shutting down, workflow gone). */
  signal?: AbortSignal;
  /** The activity's start-to-close timeout: no request starts unless its outcome is recorded before then. */
  timeLimitMs?: number;
  random?: () => number;
  /** Runs the lanes' round statements: the worker's shared `coalescedRounds`, or one statement each (the default). */
  rounds?: RoundRunner;
  /** Requests on the wire across the worker's batches (default: this process's count; tests set their own). */
  sending?: { count: number };
  /**
   * Listen for new deliveries between rounds instead of ending the batch once they run out (see listenForMore):
   * stop after `quietMs` without any, look at least every `pollMs` even without a notification.
   */
  listen?: {
    notifications: DeliveryNotifications;
    quietMs: number;
    pollMs: number;
    /** This batch's token in webhook_endpoint_listeners (unique per batch attempt). */
    owner: string;
    /** Wakes the endpoint's workflow: for deliveries announced to a batch that stopped without looking for them. */
    wake: () => Promise<void>;
  };
};

/** A round never plans more rate-limited sending than this, so its lease stays short at a low rate limit. */
const ROUND_PACING_MS = 10_000;
/** Slots of the rate limit a round may still use although their time has just passed (a DB round trip's worth). */
const CATCH_UP_MS = 100;
const HEARTBEAT_EVERY_MS = 1_000;
/** A lane sends at least this many requests a round: smaller lanes only add round trips. */
const LANE_MIN_SIZE = 4;
/**
 * Lanes per batch at most. Two overlap one lane's round trip with the other's requests; four did no better in the
 * one run taken on two cores (specification/performance.md, "Two lanes").
 */
const MAX_LANES = 2;
/**
 * A batch's first rounds send at a concurrency of the backlog it found divided by this (never below
 * MIN_SIZED_CONCURRENCY), not at the endpoint's whole maxConcurrency: every request in flight at once is a
 * connection, and 120 deliveries sent 64 at a time opened 64 connections to carry two requests each
 * (specification/performance.md, "Lanes sized to the backlog"). Once more has been claimed than was found
 * (deliveries keep arriving), the full concurrency applies. Eight: a request costs sender and receiver about 1.5
 * times the CPU on a connection that carries 8 as on a kept-alive one, 2.5 times on one that carries 4 (the earlier
 * divisor), 7 times on a new one (bench/connection-cost.ts). Sixteen showed no difference in the rates and would halve
 * the first concurrency of a receiver answering in 50–100 ms (specification/performance.md, "Writes a delivery no
 * longer makes").
 */
const SENDS_PER_CONNECTION = 8;
/**
 * Concurrency the backlog sizing never goes below: a few connections cost little, and a slow receiver's small backlog
 * (where concurrency, not connections, sets the pace) is sent as before at caps up to this.
 */
const MIN_SIZED_CONCURRENCY = 16;
/**
 * An answer slower than this ends the sizing for the batch: the receiver's own time, not connections, sets the pace
 * then, and sending a 64-delivery backlog 16 at a time to a receiver that takes a second each took four seconds
 * where the endpoint's full concurrency takes one (found in review). A loopback or nearby receiver answers in a few
 * milliseconds.
 */
const SLOW_ANSWER_MS = 100;
/**
 * With more requests than this on the wire from one worker, a slow answer says nothing about its receiver: the wait
 * is ours (a busy event loop, a busy machine) or the crowd's at a shared receiver. Taking it as the receiver's would
 * give every endpoint its whole concurrency at once, and more requests make every answer slower still: 100 endpoints
 * of one loopback receiver went from about 30 requests each to 64 that way, and 3,000 connections to 5,400
 * (specification/performance.md, "Slow answers in a crowd"). The price: requests waiting on hung receivers count
 * too, so on a worker with that many out a truly slow receiver's first backlog goes at the sized concurrency (an
 * eighth of it at once, at least 16), not all at once; the sizing ends anyway once more than that has been claimed.
 */
const CROWDED_SENDS = 256;
/** Requests on the wire from this worker, across its batches (see CROWDED_SENDS). */
const workerSends = { count: 0 };
/**
 * Once a receiver has answered fast, a lane claims up to this many times its share of the concurrency in one
 * statement and sends them through a window of that share (each request starts as one ends), so the statement that
 * records a round's outcomes and claims the next is paid once per this many windows of requests, and the round's
 * slowest answer holds up the lane once per claim rather than once per window. Never beyond what the rate limit
 * sends in ROUND_PACING_MS.
 */
const WINDOWS_PER_CLAIM = 4;

type Round = {
  unfinished: Map<string, Claimed>;
  lost: Set<string>;
  leaseMs: number;
  renewedAt: number;
  /**
   * Epoch ms until which every lease of the round is known to hold: from before the claim's statement, then from
   * before each renewal that came back. A delivery that waited for the window starts only if its request ends before.
   */
  leaseUntil: number;
  /** Sent and waiting for the statement that records their outcomes (renewed without waiting for its locks). */
  writing?: boolean;
};

type Sent = {
  delivery: Claimed;
  attempt: DeliveryAttempt;
  outcome: AttemptOutcome;
  /** The worker had more than CROWDED_SENDS requests on the wire when this one started or ended. */
  crowded?: boolean;
};

type RoundResult = { sent: Sent[]; unsent: Claimed[] };

export async function deliverDueBatch(deps: BatchDeps, input: DeliverBatchInput): Promise<DeliverBatchResult> {
  const began = Date.now();
  const { db } = deps;
  // One round trip: the endpoint, its version, the policy and, for a batch that may listen, the endpoint's listener
  // row. From then on this batch owns that row: an earlier attempt still running (superseded after a lost
  // heartbeat) can no longer say it listens, and fan-outs that believed it did have committed before this batch's
  // first claim, which therefore sees their deliveries.
  const { endpoint, version, policy, due } = await loadBatchSetup(
    db,
    deps.credentialKeys,
    input.organizationId,
    input.endpointId,
    deps.listen?.owner ?? null,
    MAX_CONCURRENCY * SENDS_PER_CONNECTION,
  );
  if (!endpoint) return { endpoint: 'deleted', sent: 0, succeeded: 0, more: false, nextDueAt: null };
  if (!endpoint.enabled) return { endpoint: 'disabled', sent: 0, succeeded: 0, more: false, nextDueAt: null };
  const listenerId = endpoint.id;
  const retry = retryPolicy({ delaysMs: policy.retryDelaysMs, compression: deps.retryCompression });
  const random = deps.random ?? Math.random;
  const runRound = deps.rounds ?? directRounds(db);

  const interval = 1000 / endpoint.rateLimitPerSecond;
  const pacedCap = Math.max(1, Math.floor((endpoint.rateLimitPerSecond * ROUND_PACING_MS) / 1000));
  const roundCap = Math.min(endpoint.maxConcurrency, pacedCap);
  // Lanes share the concurrency (at least LANE_MIN_SIZE requests each, at most MAX_LANES): while one lane's round
  // trip runs, the others' requests are on the wire. Their shares add up to the concurrency exactly (9 → 5 + 4).
  const lanes = Math.max(1, Math.min(MAX_LANES, Math.floor(roundCap / LANE_MIN_SIZE)));
  // What one lane may claim at once beyond its window (WINDOWS_PER_CLAIM): its share of the rate limit's pacing.
  const claimCap = Math.floor(pacedCap / lanes);
  // Sized to the backlog found at the start until more than that has been claimed (see SENDS_PER_CONNECTION), or
  // until an answer shows a slow receiver (SLOW_ANSWER_MS).
  let slowReceiver = false;
  /** Some answer took over SLOW_ANSWER_MS, in a crowd or not: claims are then one window each (see plan). */
  let slowAnswers = false;
  const sizedCap = Math.min(roundCap, Math.max(MIN_SIZED_CONCURRENCY, Math.ceil(due / SENDS_PER_CONNECTION)));
  const laneCap = (lane: number) => {
    // Claimed, not merely asked for: the other lane's claim under way may come back with less (this lane's own claim
    // can take those rows first), and a window planned as if the backlog were taken would send it all at once.
    const concurrency = slowReceiver || claimedTotal >= due ? roundCap : sizedCap;
    return Math.floor(concurrency / lanes) + (lane < concurrency % lanes ? 1 : 0);
  };
  // The last moment a round may end (its requests answered or timed out, its outcomes written).
  const deadline = deps.timeLimitMs === undefined ? Number.POSITIVE_INFINITY : began + deps.timeLimitMs;
  let nextSlot = began;
  let stopped = deps.signal?.aborted ?? false;
  // Wakes the deliveries waiting for their rate-limit slot: once stopped, they go back unsent at once.
  const halted = signal();
  const haltedSignal = new AbortController();
  const stop = () => {
    stopped = true;
    halted.resolve();
    haltedSignal.abort();
  };
  if (stopped) halted.resolve();
  // Wakes them too when a receiver throttles or answers 410 (see sendRound's `holdBack`).
  const paused = signal();
  deps.signal?.addEventListener('abort', stop, { once: true });

  // The rounds on the wire (one per lane), for the heartbeat's lease renewal: deliveries claimed and not answered.
  const rounds = new Set<Round>();
  let renewal: Promise<void> = Promise.resolve();
  /** Set while the batch says it listens: until when, as last written. */
  let listening: { until: number; quietMs: number } | undefined;
  const renewListening = async (current: { until: number; quietMs: number }) => {
    if (!deps.listen || listening !== current) return;
    // Taken over by a newer attempt of this batch: stop here, the newer one has the endpoint.
    if (!(await setListening(db, endpoint.id, deps.listen.owner, current.quietMs))) stop();
  };
  const beat = setInterval(() => {
    try {
      deps.heartbeat();
    } catch {
      stop();
    }
    // Renewed after a stop too: the requests still on the wire finish within their timeout, and their leases must
    // hold until then, or a retry of the activity could claim and send them again meanwhile.
    for (const current of rounds) {
      if (Date.now() - current.renewedAt < current.leaseMs / 3) continue;
      current.renewedAt = Date.now();
      renewal = renewal.then(() => renewLeases(db, current)).catch(stop);
    }
    // A listening batch busy with a long burst keeps its row current, or fan-outs would fall back to wakes.
    if (!stopped && listening && listening.until - Date.now() < listening.quietMs / 2) {
      const current = listening;
      current.until = Date.now() + current.quietMs;
      renewal = renewal.then(() => renewListening(current)).catch(stop);
    }
  }, HEARTBEAT_EVERY_MS);

  let claimedTotal = 0;
  /** Deliveries being claimed right now (a lane's claim under way), reserved from the batch's share. */
  let claiming = 0;
  let sentTotal = 0;
  let succeeded = 0;
  let lastFailure: Sent | undefined;
  /** When the latest delivered attempt was made (epoch ms). */
  let lastSuccessAt: number | undefined;
  let reported: { successAt: number | undefined; failure: Sent | undefined } = {
    successAt: undefined,
    failure: undefined,
  };
  /**
   * The endpoint's health from what was sent since the last report: its latest success and its latest failure, each
   * at the time of its attempt, so the health (whichever is later) follows the last outcome even when both happened
   * since the last report. At the end of the batch, and as it goes while it listens (at once when health flips,
   * else at most once per `everyMs`), so a long batch never hides a failing receiver from the dashboard.
   */
  let reportedAt = 0;
  let reportedOk: boolean | undefined;
  const reportHealth = async (everyMs = 0) => {
    const fresh = lastSuccessAt !== reported.successAt ? lastSuccessAt : undefined;
    const failure = lastFailure !== reported.failure ? lastFailure : undefined;
    if (fresh === undefined && !failure) return;
    const ok = lastSuccessAt !== undefined && (!lastFailure || lastSuccessAt > lastFailure.attempt.attemptedAt);
    if (ok === reportedOk && Date.now() - reportedAt < everyMs) return;
    reported = { successAt: lastSuccessAt, failure: lastFailure };
    reportedAt = Date.now();
    reportedOk = ok;
    if (fresh !== undefined)
      await recordIntegrationOutcome(db, endpoint.organizationId, endpoint.id, { ok: true, at: new Date(fresh) });
    if (failure)
      await recordIntegrationOutcome(db, endpoint.organizationId, endpoint.id, {
        ok: false,
        error: describe(failure),
        at: new Date(failure.attempt.attemptedAt),
      });
  };
  let disableReason: string | undefined;
  let throttledUntil: number | undefined;
  /** The last claim found fewer due deliveries than it asked for: nothing else was due when it ran. */
  let drained = false;
  try {
    /** How many to claim next, and for how long, or null when the batch should end here. */
    const plan = (first: boolean, lane: number): { size: number; window: number; leaseMs: number } | null => {
      if (stopped || throttledUntil !== undefined || disableReason !== undefined) return null;
      const window = laneCap(lane);
      const left = input.maxBatch - claimedTotal - claiming;
      // Near the end of the batch's time a claim shrinks to what it can still send (one window, then none).
      const now = Date.now();
      const worstFor = (size: number) => {
        // The other lane's round takes its slots of the rate limit in between: count the whole concurrency's.
        const slotsAhead = (lanes > 1 ? roundCap * Math.ceil(size / window) : size) - 1;
        const pacingMs = Math.max(0, Math.max(nextSlot, now - CATCH_UP_MS) + slotsAhead * interval - now);
        return { pacingMs, worstMs: pacingMs + Math.ceil(size / window) * deps.timeoutMs + deps.leaseMarginMs };
      };
      // Only once answers came back fast: for a slow receiver the round trip is nothing beside its answers, and a
      // claim of several windows would hold its deliveries at the sized concurrency after the sizing ended. Slow
      // answers in a crowd count here too: whoever is slow, deliveries claimed to wait behind slow windows may
      // outwait their lease and be given back unsent.
      const windows = slowAnswers || sentTotal === 0 ? 1 : WINDOWS_PER_CLAIM;
      let size = Math.min(window * windows, Math.max(window, claimCap), left);
      while (size > window && now + worstFor(size).worstMs > deadline) size -= window;
      size = Math.min(size, left);
      if (size <= 0) return null;
      const { pacingMs, worstMs } = worstFor(size);
      // The first round always runs, or a misconfigured timeout would stall the endpoint for good.
      if (!first && now + worstMs > deadline) return null;
      // The lease covers the requests of one window (the others' are renewed with it while they wait, see beat).
      return { size, window, leaseMs: Math.ceil(pacingMs + deps.timeoutMs + deps.leaseMarginMs) };
    };

    /**
     * One lane: claims, sends the round, and records its outcomes in the statement that claims the lane's next
     * round, until a claim comes back short (nothing else due: `drained`) or no claim may be made. Two lanes share the
     * endpoint's concurrency, so one lane's requests are on the wire while the other's round trip runs.
     */
    const runLane = async (
      first: boolean,
      lane: number,
      onFull?: () => void,
    ): Promise<{ claimed: number; drained: boolean }> => {
      let lease = plan(first, lane);
      if (!lease) return { claimed: 0, drained: false };
      let claimIssuedAt = Date.now();
      let claimed = await claim([], lease);
      let laneDrained = claimed.length < lease.size;
      if (!laneDrained) onFull?.();
      let total = 0;
      while (claimed.length > 0) {
        total += claimed.length;
        const round: Round = {
          unfinished: new Map(claimed.map((d) => [d.id, d])),
          lost: new Set(),
          leaseMs: lease!.leaseMs,
          renewedAt: Date.now(),
          leaseUntil: claimIssuedAt + lease!.leaseMs,
        };
        rounds.add(round);
        const window = lease!.window;
        const result = await sendRound(deps, endpoint, claimed, round, {
          window,
          interval,
          takeSlot: () => {
            const at = Math.max(nextSlot, Date.now() - CATCH_UP_MS);
            nextSlot = at + interval;
            return at;
          },
          // Batch-wide: a throttle or a 410 in one lane holds the other lane's waiting deliveries back too, and a
          // slow answer gives back what waits behind a window sized for a fast receiver (the next claim has the
          // whole concurrency).
          holdBack: () =>
            stopped ||
            throttledUntil !== undefined ||
            disableReason !== undefined ||
            (slowReceiver && laneCap(lane) > window),
          halted: Promise.race([halted.promise, paused.promise]),
          answered: ({ attempt, outcome, crowded }) => {
            if (attempt.durationMs > SLOW_ANSWER_MS) {
              slowAnswers = true;
              if (!crowded) slowReceiver = true;
            }
            if (outcome.verdict === 'disable_endpoint') disableReason ??= `the endpoint answered ${outcome.reason}`;
            if (outcome.verdict === 'retry' && outcome.throttle) {
              const pause = Math.round(Math.min(outcome.retryAfterMs ?? 0, retry.maxRetryAfterMs) / retry.compression);
              throttledUntil = Math.max(throttledUntil ?? 0, Date.now() + pause);
            }
            // Only these two, which hold every later delivery of the batch back: a delivery woken early from its
            // rate-limit slot by anything else would go out before its slot.
            if (disableReason !== undefined || throttledUntil !== undefined) paused.resolve();
          },
        });
        rounds.delete(round);
        // Until their outcomes are written the round's sent deliveries stay leased: the heartbeat renews them while
        // the lane waits for its round statement, which may wait its turn behind others (round-statement.ts). The
        // write clears their leases, and a renewal never sets a cleared one nor waits for the write's locks. Not the
        // unsent ones: the write gives them back (attempt number lowered), and a renewal could then extend a newer
        // claim of theirs.
        const writing: Round = {
          unfinished: new Map(result.sent.map((s) => [s.delivery.id, s.delivery] as const)),
          lost: new Set(),
          leaseMs: round.leaseMs,
          renewedAt: round.renewedAt,
          leaseUntil: round.leaseUntil,
          writing: true,
        };
        rounds.add(writing);
        await renewal;
        sentTotal += result.sent.length;
        for (const s of result.sent) {
          if (s.outcome.verdict === 'delivered') {
            succeeded++;
            lastSuccessAt = Math.max(lastSuccessAt ?? 0, s.attempt.attemptedAt);
          } else if (!lastFailure || s.attempt.attemptedAt >= lastFailure.attempt.attemptedAt) lastFailure = s;
        }
        const rows = [
          ...result.sent.map((s) => outcomeRow(s, retry, random)),
          ...result.unsent.map((d) => unsentRow(d)),
        ];
        lease = plan(false, lane);
        claimIssuedAt = Date.now();
        try {
          claimed = await claim(rows, lease);
        } finally {
          rounds.delete(writing);
        }
        // Without a claim (share or time used up, stopped) what was due is unknown: the last answer stands.
        if (lease !== null) laneDrained = claimed.length < lease.size;
        if (lease !== null && !laneDrained) onFull?.();
      }
      return { claimed: total, drained: laneDrained };
    };
    /** The round statement, with the claim's size reserved from the batch's share while it runs. */
    const claim = async (rows: OutcomeRow[], lease: { size: number; window: number; leaseMs: number } | null) => {
      claiming += lease?.size ?? 0;
      try {
        const claimed =
          rows.length === 0 && !lease
            ? []
            : await runRound({
                endpoint,
                rows,
                claim: lease,
                ...(disableReason !== undefined ? { disableReason } : {}),
              });
        claimedTotal += claimed.length;
        return claimed;
      } finally {
        claiming -= lease?.size ?? 0;
      }
    };
    /**
     * Runs the lanes until each ends; true when anything was claimed. The second lane starts only once the first
     * fills a claim: a trickle of deliveries (a listening batch's usual look) costs one lane's round trips, not two.
     */
    const look = async (first: boolean): Promise<boolean> => {
      const others: Array<Promise<{ claimed: number; drained: boolean }>> = [];
      // Each lane, once it fills a claim, starts the next one.
      const startLane = (index: number) => () => {
        if (index >= lanes || others.length >= index) return;
        const lane = runLane(first, index, startLane(index + 1));
        // A failing lane stops the others (it rethrows below); no lane goes on sending after the batch has failed.
        lane.catch(stop);
        others.push(lane);
      };
      let firstResult: { claimed: number; drained: boolean };
      try {
        firstResult = await runLane(first, 0, startLane(1));
      } catch (error) {
        stop();
        await Promise.allSettled(others);
        throw error;
      }
      const results = [firstResult];
      // Lanes may still start others while they run: wait until every started lane has ended.
      let failure: unknown;
      for (let i = 0; i < others.length; i++) {
        try {
          results.push(await others[i]!);
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure !== undefined) throw failure;
      // A lane whose claim came back short saw nothing else due; otherwise every lane stopped with work left.
      drained = results.some((r) => r.drained);
      return results.some((r) => r.claimed > 0);
    };

    await look(true);
    if (deps.listen) await listenForMore(deps.listen);

    /**
     * The endpoint's deliveries keep coming (it had work this batch): instead of ending, and costing Temporal a wake
     * and a new batch for the next one, the batch listens (webhook_endpoint_listeners, NOTIFY from the relay's
     * fan-out) until nothing came for `quietMs`, its share of deliveries is used up, or its time runs short. To stop,
     * it clears its listener row, which waits for any fan-out that saw it listening, and then looks once more.
     */
    async function listenForMore(listen: NonNullable<BatchDeps['listen']>) {
      if (claimedTotal === 0) return;
      // A batch that ends with work left (its share used up, stopped, throttled) does not listen: taking the LISTEN
      // session only to give it back cost a database connection per batch (destroyed, not pooled, see
      // delivery-notifications.ts), and with it the named statements prepared on that connection.
      if (!drained || stopped || throttledUntil !== undefined || disableReason !== undefined) return;
      await reportHealth();
      const release = await listen.notifications.hold();
      if (!release) return;
      let lastWorkAt = Date.now();
      let checkedAt = Date.now();
      let changed = false;
      try {
        for (;;) {
          if (!drained || stopped || throttledUntil !== undefined || disableReason !== undefined) return;
          const now = Date.now();
          // A changed endpoint (URL, secret, headers, limits, switched off) ends the batch, which then says more
          // is due, so the next batch loads it. Asked once per poll interval, so a change applies within one.
          if (now - checkedAt >= listen.pollMs) {
            checkedAt = now;
            changed = (await endpointVersion(db, listenerId)) !== version;
            if (changed) return;
          }
          const quietLeft = listen.quietMs - (now - lastWorkAt);
          if (quietLeft <= 0 || claimedTotal >= input.maxBatch) return;
          if (now + listen.pollMs + deps.timeoutMs + deps.leaseMarginMs > deadline) return;
          if (!listening || listening.until - now < listen.quietMs / 2) {
            const first = !listening;
            listening ??= { until: 0, quietMs: listen.quietMs };
            listening.until = now + listen.quietMs;
            if (!(await setListening(db, listenerId, listen.owner, listen.quietMs))) {
              // A newer attempt of this batch owns the endpoint now.
              stop();
              return;
            }
            // Deliveries written before the row said so got a wake; look for them now rather than after the wait.
            if (first) {
              if (await look(false)) lastWorkAt = Date.now();
              continue;
            }
          }
          await listen.notifications.wait(listenerId, Math.min(listen.pollMs, quietLeft), haltedSignal.signal);
          if (await look(false)) {
            lastWorkAt = Date.now();
            await reportHealth(listen.pollMs);
          }
        }
      } finally {
        release();
        if (listening) {
          listening = undefined;
          // A renewal already under way finishes first, so none can write the row after it is cleared.
          await renewal.catch(() => {});
          await clearListening(db, listenerId, listen.owner);
          if (drained && !stopped && !changed) {
            // Fan-outs that saw the row have committed: what they wrote is due now, and no wake announced it.
            await look(false);
          } else if (stopped && (await pendingSummary(db, listenerId)).dueNow) {
            // Cancelled or superseded: whatever was announced to this batch gets a wake instead (the workflow's
            // next batch, or the newer attempt, claims it).
            await listen.wake().catch(() => {});
          }
        }
      }
    }
  } finally {
    clearInterval(beat);
    deps.signal?.removeEventListener('abort', stop);
  }

  await reportHealth();

  if (disableReason !== undefined)
    return { endpoint: 'disabled', sent: sentTotal, succeeded, more: false, nextDueAt: null };
  if (succeeded === 0 && sentTotal > 0 && (await failingTooLong(db, endpoint, policy.failureDisableAfterMs)))
    return { endpoint: 'disabled', sent: sentTotal, succeeded, more: false, nextDueAt: null };

  // A batch that ended with its share or its time used up, every claim full, has more due: no need to ask.
  if (!drained && !stopped && claimedTotal > 0 && throttledUntil === undefined)
    return { endpoint: 'active', sent: sentTotal, succeeded, more: true, nextDueAt: null };
  const pending = await pendingSummary(db, endpoint.id);
  if (throttledUntil !== undefined) {
    // The receiver asked us to slow down: nothing more to it before then, due or not.
    return {
      endpoint: 'active',
      sent: sentTotal,
      succeeded,
      more: false,
      nextDueAt: Math.max(throttledUntil, pending.nextDueAt ?? 0),
      throttledUntil,
    };
  }
  return { endpoint: 'active', sent: sentTotal, succeeded, more: pending.dueNow, nextDueAt: pending.nextDueAt };
}

/**
 * Extends the leases of the round's deliveries still on the wire. A delivery whose attempt number moved on was
 * claimed by a newer attempt (this one's lease had run out): it is not sent from here any more.
 */
async function renewLeases(db: Database, round: Round): Promise<void> {
  const held = [...round.unfinished.values()];
  if (held.length === 0) return;
  const issuedAt = Date.now();
  // A round being recorded skips the rows its write holds (they have nothing left to renew): waiting would hold the
  // renewals of the other lane's requests behind it, and could deadlock with the write. A round on the wire waits.
  const result = await db.execute<{ id: string }>(sql`
    update webhook_deliveries d set lease_until = greatest(d.lease_until, now() + ${round.leaseMs} * interval '1 millisecond')
    where d.id in (select w.id from webhook_deliveries w
      join unnest(${sql.param(held.map((d) => d.id))}::uuid[], ${sql.param(held.map((d) => d.attempt_count))}::int[])
        as h(id, attempt) on w.id = h.id and w.attempt_count = h.attempt
      where w.lease_until is not null
      for no key update ${sql.raw(round.writing ? 'skip locked' : '')})
      and d.lease_until is not null
    returning d.id`);
  if (round.writing) return;
  const kept = new Set(result.rows.map((r) => r.id));
  for (const d of held) if (!kept.has(d.id) && round.unfinished.has(d.id)) round.lost.add(d.id);
  round.leaseUntil = Math.max(round.leaseUntil, issuedAt + round.leaseMs);
}

/**
 * Sends a round's deliveries through its window (at most `window` in flight, each starting as one ends), each no
 * sooner than its slot of the rate limit. Nothing more is sent once `holdBack` says so (the batch stopped, a receiver
 * throttled with 429, 503 … or answered 410, or a slow answer ended the sizing), once a delivery's lease is lost, or
 * when a delivery that waited for the window would outlive its lease: the deliveries not yet sent go back to the queue
 * untouched.
 */
async function sendRound(
  deps: BatchDeps,
  endpoint: DeliveryEndpoint,
  claimed: Claimed[],
  round: Round,
  pacing: {
    /** Requests in flight at most: each starts as one ends. */
    window: number;
    interval: number;
    takeSlot: () => number;
    /** Send nothing more: stopped, throttled, switched off, or the window was sized for a fast receiver. */
    holdBack: () => boolean;
    /** Resolves when holdBack may have turned true (wakes deliveries waiting for their slot). */
    halted: Promise<void>;
    /** Each answer or failure, as it comes (the batch-wide verdicts above are taken from it). */
    answered: (sent: Sent) => void;
  },
): Promise<RoundResult> {
  const sent: Sent[] = [];
  const unsent: Claimed[] = [];
  let started = 0;
  const giveBack = (delivery: Claimed) => {
    unsent.push(delivery);
    round.unfinished.delete(delivery.id);
  };
  await mapLimited(claimed, pacing.window, async (delivery) => {
    // The first window goes out as claimed, inside the claim's lease; a delivery that waited for the window goes out
    // only if its lease, as last renewed, holds until its request must have ended.
    const waited = started++ >= pacing.window;
    if (pacing.holdBack() || round.lost.has(delivery.id)) return giveBack(delivery);
    // Its slot of the rate limit is taken as it starts, so waiting for the window does not use slots up.
    const wait = pacing.takeSlot() - Date.now();
    if (wait > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise((r) => {
          timer = setTimeout(r, wait);
        }),
        pacing.halted,
      ]);
      clearTimeout(timer);
    }
    if (pacing.holdBack() || round.lost.has(delivery.id)) return giveBack(delivery);
    if (waited && Date.now() + deps.timeoutMs > round.leaseUntil) return giveBack(delivery);
    const now = Date.now();
    const request = {
      url: endpoint.url,
      msgId: delivery.message_id,
      body: delivery.body,
      secrets: secretsInEffect(endpoint.keys, now),
      headers: endpoint.headers,
      now,
      pool: endpoint.id,
    };
    const sending = deps.sending ?? workerSends;
    let crowded = ++sending.count > CROWDED_SENDS;
    let attempt: DeliveryAttempt;
    try {
      attempt = await deliverWebhook(deps.poster, request);
    } finally {
      if (sending.count-- > CROWDED_SENDS) crowded = true;
    }
    round.unfinished.delete(delivery.id);
    const outcome = classifyAttempt(
      attempt.kind === 'response'
        ? { kind: 'response', status: attempt.status, retryAfter: attempt.retryAfter, receivedAt: attempt.receivedAt }
        : { kind: 'error', code: attempt.code },
    );
    const result = { delivery, attempt, outcome, crowded };
    sent.push(result);
    pacing.answered(result);
  });
  return { sent, unsent };
}

/** A promise to await and the function that settles it (Promise.withResolvers, before the es2024 lib). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function outcomeRow({ delivery, attempt, outcome }: Sent, retry: RetryPolicy, random: () => number): OutcomeRow {
  const attemptNumber = delivery.attempt_count;
  const at = new Date(attempt.attemptedAt).toISOString();
  let status: 'pending' | 'succeeded' | 'failed' = 'failed';
  let nextAttemptAt: string | null = null;
  if (outcome.verdict === 'delivered') status = 'succeeded';
  else if (outcome.verdict === 'retry') {
    const delay = nextRetryDelay(retry, {
      attemptsMade: attemptNumber,
      random,
      ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
    });
    if (delay !== undefined) {
      status = 'pending';
      nextAttemptAt = new Date(Date.now() + delay).toISOString();
    }
  }
  const response = attempt.kind === 'response' ? attempt : undefined;
  const excerpt = response
    ? (response.location ? `redirect to ${response.location} not followed\n` : '') + response.bodyExcerpt
    : attempt.kind === 'error'
      ? attempt.message
      : '';
  return {
    id: delivery.id,
    attempt: attemptNumber,
    sent: true,
    status,
    next_attempt_at: nextAttemptAt,
    last_attempt_at: at,
    succeeded_at: status === 'succeeded' ? new Date().toISOString() : null,
    started_at: at,
    duration_ms: attempt.durationMs,
    status_code: response?.status ?? null,
    excerpt: truncateText(excerpt, 2048) || null,
    error_class: attempt.kind === 'error' ? attempt.code : null,
    outcome:
      outcome.verdict === 'delivered'
        ? 'succeeded'
        : outcome.verdict === 'disable_endpoint'
          ? 'disabled'
          : status === 'pending'
            ? 'retry'
            : 'failed',
  };
}

function unsentRow(delivery: Claimed): OutcomeRow {
  return {
    id: delivery.id,
    attempt: delivery.attempt_count,
    sent: false,
    status: null,
    next_attempt_at: null,
    last_attempt_at: null,
    succeeded_at: null,
    started_at: null,
    duration_ms: null,
    status_code: null,
    excerpt: null,
    error_class: null,
    outcome: null,
  };
}

function describe({ attempt, outcome }: Sent): string {
  if (attempt.kind === 'error') return `${attempt.code}: ${attempt.message}`;
  return outcome.verdict === 'delivered' ? 'delivered' : outcome.reason;
}

async function disableEndpoint(db: Database, endpoint: DeliveryEndpoint, reason: string): Promise<void> {
  await runRoundStatement(db, [{ endpoint, rows: [], claim: null, disableReason: reason }]);
}

/**
 * Every attempt since the last success (or since an admin last switched the endpoint on) failed, and the first of
 * them is older than the window: disable. Only asked after a batch without a success. Attempts still `sending`, or
 * whose outcome was lost, prove nothing either way.
 */
async function failingTooLong(db: Database, endpoint: DeliveryEndpoint, windowMs: number): Promise<boolean> {
  // Attempts are found by when they were opened (the endpoint's index is on created_at, see common/webhooks/attempt-window.ts),
  // among those opened since a little before the last success, and then judged by when they went out.
  const result = await db.execute<{ failing_since: string | null }>(sql`
    with since as (select coalesce(greatest(
        (select last_success_at from integration_configs where id = ${endpoint.id}),
        (select max(created_at) from integration_events
          where integration_config_id = ${endpoint.id} and type = 'endpoint.enabled')), '-infinity') as at)
    select min(a.started_at) as failing_since from webhook_attempts a, since
    where a.endpoint_id = ${endpoint.id} and a.attempt_number > 0 and a.outcome <> 'sending'
      and a.created_at > since.at - ${attemptStartLag} and a.started_at > since.at`);
  const since = result.rows[0]?.failing_since;
  if (!since) return false;
  const failingMs = Date.now() - new Date(since).getTime();
  if (failingMs < windowMs) return false;
  await disableEndpoint(
    db,
    endpoint,
    `every attempt failed for ${formatDuration(failingMs)} (since ${new Date(since).toISOString()})`,
  );
  return true;
}

function formatDuration(ms: number): string {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} days`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} hours`;
  return `${(ms / 1000).toFixed(1)} seconds`;
}

/** When the endpoint was last changed (any setting or its credentials), or null when it is gone. */
async function endpointVersion(db: Database, endpointId: string): Promise<string | null> {
  const result = await db.$client.query<{ v: string }>({
    name: 'webhook-endpoint-version',
    text: 'select updated_at::text as v from integration_configs where id = $1',
    values: [endpointId],
  });
  return result.rows[0]?.v ?? null;
}

/**
 * Says the endpoint's batch listens for the next `forMs` (the relay's fan-out notifies it instead of a wake); false
 * when the row belongs to another batch now.
 */
async function setListening(db: Database, endpointId: string, owner: string, forMs: number): Promise<boolean> {
  const result = await db.$client.query({
    name: 'webhook-listen',
    text: `update webhook_endpoint_listeners set listening_until = clock_timestamp() + $3 * interval '1 millisecond'
      where endpoint_id = $1 and owner = $2`,
    values: [endpointId, owner, forMs],
  });
  return result.rowCount === 1;
}

/** Returns once every fan-out that read the row as listening has committed (they hold it FOR SHARE). */
async function clearListening(db: Database, endpointId: string, owner: string): Promise<void> {
  await db.$client.query({
    name: 'webhook-unlisten',
    text: 'update webhook_endpoint_listeners set listening_until = null where endpoint_id = $1 and owner = $2',
    values: [endpointId, owner],
  });
}

/** Whether the endpoint exists and is on, and what of its pending deliveries is due now or later. */
export async function endpointDueState(
  db: Database,
  target: { endpointId: string; organizationId: string },
): Promise<{ endpoint: 'active' | 'disabled' | 'deleted'; dueNow: boolean; dueInMs: number | null }> {
  const result = await db.execute<{ is_active: boolean }>(sql`
    select is_active from integration_configs
    where id = ${target.endpointId} and organization_id = ${target.organizationId} and integration_type = 'webhook'`);
  const row = result.rows[0];
  if (!row) return { endpoint: 'deleted', dueNow: false, dueInMs: null };
  if (!row.is_active) return { endpoint: 'disabled', dueNow: false, dueInMs: null };
  const pending = await pendingSummary(db, target.endpointId);
  // A delay, measured on the database's clock alone: the workflow that waits for it has a clock of its own.
  const dueInMs = pending.nextDueAt === null ? null : Math.max(0, pending.nextDueAt - pending.dbNow);
  return { endpoint: 'active', dueNow: pending.dueNow, dueInMs };
}

async function pendingSummary(db: Database, endpointId: string) {
  const result = await db.execute<{ next_due: string | null; due_now: boolean; db_now: string }>(sql`
    select min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) as next_due,
      coalesce(bool_or(next_attempt_at <= now() and (lease_until is null or lease_until < now())), false) as due_now,
      now() as db_now
    from webhook_deliveries where endpoint_id = ${endpointId} and status = 'pending'`);
  const row = result.rows[0];
  return {
    nextDueAt: row?.next_due ? new Date(row.next_due).getTime() : null,
    dueNow: row?.due_now ?? false,
    dbNow: row ? new Date(row.db_now).getTime() : Date.now(),
  };
}
