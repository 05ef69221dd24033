// The ticket page loads its timeline newest first, a page of comments and a page of events at a time, and shows
// earlier activity on demand. Two streams paged independently only make a correct merged list down to the point
// where both are complete: below the oldest item of a stream that has more, that stream may still hide entries.
// So the page shows everything from that point on and, when asked for more, extends the stream(s) that set it.
import type { TimelinePage } from './api.ts';

/** A stream as loaded so far: its items newest first, and the cursor of its next (older) page, if any. */
export type LoadedStream<T extends { createdAt: string }> = { items: T[]; nextCursor: string | null };

export function streamOf<T extends { createdAt: string }>(page: TimelinePage<T>): LoadedStream<T> {
  return { items: page.data, nextCursor: page.nextCursor };
}

/** The stream with its next (older) page appended. */
export function extendStream<T extends { createdAt: string }>(
  stream: LoadedStream<T>,
  page: TimelinePage<T>,
): LoadedStream<T> {
  return { items: [...stream.items, ...page.data], nextCursor: page.nextCursor };
}

function oldestLoaded(stream: LoadedStream<{ createdAt: string }>): number {
  const oldest = stream.items.at(-1);
  return oldest ? Date.parse(oldest.createdAt) : Number.POSITIVE_INFINITY;
}

/**
 * The earliest moment (ms) from which every stream is fully loaded, or null when all of them are: entries before
 * it are held back, since a stream that has more may have entries there that are not loaded yet.
 */
export function completeSince(streams: LoadedStream<{ createdAt: string }>[]): number | null {
  const partial = streams.filter((s) => s.nextCursor !== null);
  if (partial.length === 0) return null;
  return Math.max(...partial.map(oldestLoaded));
}

/** Whether this stream's next page is what holds the shown timeline back (so "show earlier" must load it). */
export function holdsBack(stream: LoadedStream<{ createdAt: string }>, since: number | null): boolean {
  return since !== null && stream.nextCursor !== null && oldestLoaded(stream) >= since;
}
