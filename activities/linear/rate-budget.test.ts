// Linear's request budget as its response headers report it: an installation whose remaining requests are down to
// the reserve waits for the bucket to refill (a retryable failure with the wait as its delay) instead of spending
// the last requests and running into RATELIMITED.
import assert from 'node:assert/strict';
import type { ApplicationFailure } from '@temporalio/common';
import { linearFailureTypes } from './contract.ts';
import { budgetWaitMs, forgetBudgets, MAX_BUDGET_WAIT_MS, noteRateLimitHeaders, reserveOf } from './rate-budget.ts';
import {
  closeLinearWorld,
  type LinearWorld,
  linearFailure,
  linearWorld,
  makeInstallation,
  makeTicket,
} from './test-support.ts';

const headers = (limit: number, remaining: number, resetAt: number) =>
  new Headers({
    'x-ratelimit-requests-limit': String(limit),
    'x-ratelimit-requests-remaining': String(remaining),
    'x-ratelimit-requests-reset': String(resetAt),
  });

describe('Linear request budget', () => {
  afterEach(() => forgetBudgets());

  it('goes ahead while more than the reserve (1% of the limit, at least 5) remains', () => {
    assert.equal(reserveOf(5000), 50);
    assert.equal(reserveOf(100), 5);
    const now = 1_000_000;
    noteRateLimitHeaders('i-1', headers(5000, 51, now + 30_000));
    assert.equal(budgetWaitMs('i-1', now), 0);
    assert.equal(budgetWaitMs('unknown', now), 0);
  });

  it('at the reserve, waits for the bucket to refill past it (Linear refills continuously), never past the reset', () => {
    const now = 1_000_000;
    // 5000 an hour is one request every 720 ms; at 50 left (the reserve) one more is needed.
    noteRateLimitHeaders('i-1', headers(5000, 50, now + 3_600_000), now);
    assert.equal(budgetWaitMs('i-1', now), 720);
    assert.equal(budgetWaitMs('i-1', now + 500), 220, 'it has been refilling since it was reported');
    assert.equal(budgetWaitMs('i-1', now + 720), 0);
    // Spent: 51 requests to refill, 36.72 s, although the reset is an hour away.
    noteRateLimitHeaders('i-2', headers(5000, 0, now + 3_600_000), now);
    assert.equal(budgetWaitMs('i-2', now), 36_720);
    // A reset sooner than the refill ends the wait, and the budget is forgotten after it.
    noteRateLimitHeaders('i-3', headers(5000, 0, now + 10_000), now);
    assert.equal(budgetWaitMs('i-3', now), 10_000);
    assert.equal(budgetWaitMs('i-3', now + 10_000), 0);
    // A small limit refills slowly: never more than a minute at a time, then Linear is asked again.
    noteRateLimitHeaders('i-4', headers(100, 0, now + 3_600_000), now);
    assert.equal(budgetWaitMs('i-4', now), MAX_BUDGET_WAIT_MS);
  });

  it('ignores responses without the headers', () => {
    noteRateLimitHeaders('i-1', new Headers());
    noteRateLimitHeaders('i-1', undefined);
    assert.equal(budgetWaitMs('i-1'), 0);
  });

  describe('against the local Linear server', function () {
    this.timeout(30_000);
    let world: LinearWorld;
    beforeEach(async () => {
      // 20 requests an hour, a reserve of 5.
      world = await linearWorld({ fake: { requestsPerHour: 20 } });
    });
    afterEach(() => closeLinearWorld(world));

    it('stops calling Linear at the reserve and asks to be retried after the reset, without a request', async () => {
      const integrationId = await makeInstallation(world, 'apiKey');
      const ticket = await makeTicket(world);
      const issue = world.linear.simulate.createIssue({ title: 'Budget' });
      const link = () =>
        world.activities.findAndAttachLinearIssue({
          organizationId: world.org.organizationId,
          ticketId: ticket.id,
          integrationId,
          requestKey: `link/${issue.id}`,
          requestedBy: { type: 'system', id: null },
          mode: 'link',
          issueRef: world.linear.state.identifier(issue),
        });
      // Each link is two requests (the issue, the attachment): after seven, 6 remain (above the reserve); the
      // eighth leaves 4.
      let calls = 0;
      while (calls < 10) {
        const before = world.linear.operations.length;
        try {
          await link();
        } catch (err) {
          linearFailure(linearFailureTypes.rateLimited, false)(err);
          const delay = Number((err as ApplicationFailure).nextRetryDelay);
          assert.ok(delay > 0 && delay <= MAX_BUDGET_WAIT_MS, `next retry in ${delay} ms`);
          assert.equal(world.linear.operations.length, before, 'no request was spent');
          break;
        }
        calls += 1;
      }
      assert.equal(calls, 8, 'eight links (16 requests) went through before the reserve held the ninth back');
    });
  });
});
