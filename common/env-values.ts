// Reading one environment variable into a typed value, for the core config (common/config.ts) and every
// integration module's settings alike. A value that does not parse throws an error naming the variable: settings are
// read once when a process starts, so a deployment's typo stops it there with that line, instead of running with a
// NaN timeout or a silently ignored flag.

/** A whole number ≥ `min` (0 unless given), or the fallback when unset or blank. */
export function wholeNumber(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value.trim() === '') return fallback;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min)
    throw new Error(`${name} must be a whole number ≥ ${min}, got "${value}"`);
  return Number(value);
}

/** A number (decimals allowed) greater than `above` (or ≥ 0 when `above` is null), or the fallback when unset. */
export function decimalNumber(name: string, value: string | undefined, fallback: number, above: number | null): number {
  if (value === undefined || value.trim() === '') return fallback;
  const number = Number(value);
  const inRange = above === null ? number >= 0 : number > above;
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !inRange)
    throw new Error(`${name} must be a number ${above === null ? '≥ 0' : `> ${above}`}, got "${value}"`);
  return number;
}

/** On with `1`, off with `0` or when unset; any other value is refused rather than read as off. */
export function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value.trim() === '' || value.trim() === '0') return false;
  if (value.trim() === '1') return true;
  throw new Error(`${name} must be 1 (on) or 0 (off), got "${value}"`);
}

/** A comma-separated list, entries trimmed, empty ones dropped; the fallback's entries when unset. */
export function commaList(value: string | undefined, fallback = ''): string[] {
  return (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** An absolute http(s) URL, or the fallback when unset or blank. */
export function httpUrl(name: string, value: string | undefined, fallback: string): string {
  if (value === undefined || value.trim() === '') return fallback;
  const url = URL.parse(value.trim());
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw new Error(`${name} must be an absolute http(s) URL, got "${value}"`);
  return value.trim();
}
