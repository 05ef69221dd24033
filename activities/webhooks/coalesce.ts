// Wakes of one endpoint, merged. Under load many enqueue activities wake the same endpoint at once; each needs only
// a wake that starts after its deliveries were committed, not a signal of its own. So while a wake is in flight,
// later callers share the single next one, which starts when the current one settles.

type Slot = { running: Promise<void>; queued?: Promise<void> };

export function coalesceByKey(send: (key: string) => Promise<void>): (key: string) => Promise<void> {
  const slots = new Map<string, Slot>();
  const noop = () => {};

  function start(key: string): Promise<void> {
    const sending = send(key);
    const slot = slots.get(key);
    if (slot) slot.running = sending;
    else slots.set(key, { running: sending });
    const settle = () => {
      const current = slots.get(key);
      if (current?.running === sending && current.queued === undefined) slots.delete(key);
    };
    sending.then(settle, settle);
    return sending;
  }

  return function request(key: string): Promise<void> {
    const slot = slots.get(key);
    if (!slot) return start(key);
    if (slot.queued) return slot.queued;
    const queued = slot.running.then(noop, noop).then(() => {
      slot.queued = undefined;
      return start(key);
    });
    slot.queued = queued;
    return queued;
  };
}
