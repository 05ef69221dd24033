// The retry schedule as people write it: waits like "5s, 5m, 30m, 2h" (a bare number is seconds).

const units: Record<string, number> = { s: 1, m: 60, h: 3600 };

export function formatWaits(seconds: number[]): string {
  return seconds.map((s) => (s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`)).join(', ');
}

/** Seconds for each wait, or the first entry that is not a duration. */
export function parseWaits(text: string): { ok: true; seconds: number[] } | { ok: false; message: string } {
  const seconds: number[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    if (!part) continue;
    const match = /^(\d+(?:\.\d+)?)\s*([smh]?)$/i.exec(part);
    if (!match) return { ok: false, message: `“${part}” is not a wait: write it like 30s, 5m or 2h.` };
    seconds.push(Number(match[1]) * units[(match[2] || 's').toLowerCase()]!);
  }
  return { ok: true, seconds };
}
