import assert from 'node:assert/strict';
import { quietHoursEnd } from './quiet-hours.ts';

describe('quietHoursEnd: a member’s quiet hours in their own time zone', () => {
  const night = { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' };

  it('is null outside the window', () => {
    assert.equal(quietHoursEnd(night, new Date('2026-12-03T12:00:00Z')), null);
    assert.equal(quietHoursEnd(null, new Date('2026-12-03T23:00:00Z')), null);
    assert.equal(quietHoursEnd({ start: '09:00', end: '09:00', timeZone: 'UTC' }, new Date()), null);
  });

  it('ends at the local end time, across midnight', () => {
    // 23:30 in Paris (UTC+1 in December) → 07:00 Paris the next morning = 06:00 UTC.
    assert.equal(quietHoursEnd(night, new Date('2026-12-03T22:30:00Z'))?.toISOString(), '2026-12-04T06:00:00.000Z');
    assert.equal(quietHoursEnd(night, new Date('2026-12-04T05:59:00Z'))?.toISOString(), '2026-12-04T06:00:00.000Z');
    assert.equal(quietHoursEnd(night, new Date('2026-12-04T06:00:00Z')), null);
  });

  it('follows daylight saving time (UTC+2 in July)', () => {
    assert.equal(quietHoursEnd(night, new Date('2026-07-03T21:30:00Z'))?.toISOString(), '2026-07-04T05:00:00.000Z');
  });

  it('ends at the local end time on the nights the clocks change', () => {
    // Spring forward in Paris (29 March 2026, 02:00 → 03:00): 07:00 local is 05:00 UTC, not 06:00.
    assert.equal(quietHoursEnd(night, new Date('2026-03-28T22:30:00Z'))?.toISOString(), '2026-03-29T05:00:00.000Z');
    // Fall back (25 October 2026, 03:00 → 02:00): 07:00 local is 06:00 UTC.
    assert.equal(quietHoursEnd(night, new Date('2026-10-24T21:30:00Z'))?.toISOString(), '2026-10-25T06:00:00.000Z');
  });

  it('handles a daytime window', () => {
    const focus = { start: '09:00', end: '12:00', timeZone: 'America/New_York' };
    assert.equal(quietHoursEnd(focus, new Date('2026-12-03T15:00:00Z'))?.toISOString(), '2026-12-03T17:00:00.000Z');
  });
});
