// The signed-in member's unread count, live: one EventSource per tab on /api/notifications/stream, shared by the bell
// and the centre. The server sends `unread` when the stream opens and whenever the count changes (a notification
// stored, one marked read); lists that are open reload on each. EventSource reconnects by itself after a break, and
// the server sends the count again on reconnect, so nothing is missed while it was down.
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { NOTIFICATION_STREAM } from '../../notifications.ts';

type Listener = () => void;

let source: EventSource | null = null;
let unread: number | null = null;
/** Counts every `unread` event, so a list reloads even when the count is the same (one read, one new). */
let revision = 0;
const listeners = new Set<Listener>();

function emit() {
  for (const listener of listeners) listener();
}

function open() {
  if (source) return;
  source = new EventSource(NOTIFICATION_STREAM, { withCredentials: true });
  source.addEventListener('unread', (event) => {
    try {
      const data = JSON.parse((event as MessageEvent<string>).data) as { unread?: unknown };
      if (typeof data.unread !== 'number') return;
      unread = data.unread;
      revision++;
      emit();
    } catch {
      // A malformed event changes nothing; the next one brings the count.
    }
  });
}

function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  open();
  return () => {
    listeners.delete(listener);
    // Nobody watches (signed out, or the frame unmounted): the server's connection is let go.
    if (listeners.size === 0) {
      source?.close();
      source = null;
      unread = null;
    }
  };
}

/** After this tab marks notifications read, the answer's count is shown at once (the stream says the same soon). */
export function setUnreadCount(count: number): void {
  unread = count;
  emit();
}

/** The live unread count; null until the stream's first event. */
export function useUnreadCount(): number | null {
  return useSyncExternalStore(subscribe, () => unread);
}

/** Calls `onChange` whenever the stream reports a count after this component mounted. */
export function useOnUnreadChange(onChange: () => void): void {
  const seen = useSyncExternalStore(subscribe, () => revision);
  const atMount = useRef(seen);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the stream's revision moves, not when the callback is a new closure
  useEffect(() => {
    if (seen === atMount.current) return;
    atMount.current = seen;
    onChange();
  }, [seen]);
}
