// Quiet hours are a member's local times ("22:00" to "07:00" in Europe/Paris): whether an instant falls inside
// them, and when they end, worked out with the time zone database (Intl), so daylight saving moves them with the
// member's clock.

export type QuietHours = { start: string; end: string; timeZone: string };

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The local wall-clock minute of the day of `at` in `timeZone`. */
function localMinute(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(at)
    .reduce<Record<string, string>>((acc, p) => Object.assign(acc, { [p.type]: p.value }), {});
  return Number(parts.hour) * 60 + Number(parts.minute);
}

/**
 * When the quiet hours around `at` end, or null when `at` is outside them. A window whose start is after its end
 * runs over midnight; equal start and end is no window at all.
 */
export function quietHoursEnd(quiet: QuietHours | null, at: Date): Date | null {
  if (!quiet) return null;
  const start = toMinutes(quiet.start);
  const end = toMinutes(quiet.end);
  if (start === end) return null;
  const now = localMinute(at, quiet.timeZone);
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  const minutesLeft = (end - now + 1440) % 1440;
  const endAt = new Date(at.getTime() + minutesLeft * 60_000);
  endAt.setUTCSeconds(0, 0);
  // A clock change inside the window (a daylight-saving night) moves the local end by that change: correct the
  // instant until its local time is the end time (twice at most; a local time skipped by the change rounds on).
  for (let i = 0; i < 2; i++) {
    const off = ((end - localMinute(endAt, quiet.timeZone) + 720 + 1440) % 1440) - 720;
    if (off === 0) break;
    endAt.setTime(endAt.getTime() + off * 60_000);
  }
  return endAt;
}
