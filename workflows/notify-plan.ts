// What a recipient's workflow does with their waiting notifications, decided in one pure function: critical ones
// go now; the recipient's "off" suppresses; quiet hours defer; digests gather until their window closes; throttles
// count what was sent in their window. The workflow (workflows/notify.ts) only loads, records and sends what this
// returns, so every rule of fatigue lives here and is tested here.

export type NotificationDelivery =
  | { mode: 'immediate' }
  | { mode: 'digest'; windowMinutes: number; groupBy?: string }
  | { mode: 'throttle'; limit: number; windowMinutes: number; key?: string };

export type DueNotification = {
  id: number;
  channel: string;
  /** Where on the channel, when a channel has several destinations (a webhook endpoint); '' otherwise. */
  target: string;
  category: string;
  severity: 'normal' | 'critical';
  delivery: NotificationDelivery;
  groupKey: string;
  ruleId: string | null;
  status: 'pending' | 'deferred';
  createdAt: string;
  deliverAfter: string | null;
  /** When its channel first failed to send it, if it did. */
  failingSince: string | null;
};

export type RecipientSituation = {
  /** Oldest first. */
  items: DueNotification[];
  /** The member's channels per category; a category left out keeps every channel. Null for non-members. */
  channelsByCategory: Partial<Record<string, string[]>> | null;
  /** When the member's quiet hours end, if they are in them now (worked out in their time zone by the loader). */
  quietUntil: string | null;
  /** The member's own digest cadence in minutes (hourly, daily), or null: each rule's delivery applies. */
  digestMinutes: number | null;
  /** Notifications already sent within each throttle key's window (`<rule>|<channel>|<group>`). */
  sentInWindow: Record<string, number>;
  /** More were waiting than the loader returned: plan again once these are dealt with. */
  more: boolean;
  /** The earliest time a deferred notification that was not loaded (not due yet) becomes due. */
  nextDeferredAt: string | null;
};

export type Decision = {
  ids: number[];
  status: 'suppressed' | 'throttled' | 'deferred';
  reason: string;
  deliverAfter?: string;
};
export type PlannedSend = { channel: string; target: string; ids: number[]; digest: boolean };
export type NotifyPlan = { decisions: Decision[]; sends: PlannedSend[]; wakeAt: string | null };

/** Per rule, channel and group: one event's in-app and email notifications are each within their own limit. */
export const throttleKey = (ruleId: string | null, channel: string, groupKey: string) =>
  `${ruleId ?? '-'}|${channel}|${groupKey}`;

const minutes = (n: number) => n * 60_000;

function describeWindow(windowMinutes: number): string {
  return windowMinutes % 60 === 0 ? `${windowMinutes / 60} h` : `${windowMinutes} min`;
}

export function planNotifications(situation: RecipientSituation, nowMs: number): NotifyPlan {
  const decisions: Decision[] = [];
  const now = new Map<string, { channel: string; target: string; ids: number[] }>();
  const digests = new Map<string, { channel: string; target: string; ids: number[]; dueAt: number }>();
  const sent = { ...situation.sentInWindow };
  let wakeAt: number | null = null;
  const wakeNoLaterThan = (at: number) => {
    wakeAt = wakeAt === null ? at : Math.min(wakeAt, at);
  };
  const decide = (id: number, status: Decision['status'], reason: string, deliverAfter?: number) => {
    const last = decisions.at(-1);
    const after = deliverAfter === undefined ? undefined : new Date(deliverAfter).toISOString();
    if (last && last.status === status && last.reason === reason && last.deliverAfter === after) last.ids.push(id);
    else decisions.push({ ids: [id], status, reason, ...(after ? { deliverAfter: after } : {}) });
  };
  const sendNow = (item: DueNotification) => {
    const key = `${item.channel}|${item.target}`;
    const batch = now.get(key) ?? { channel: item.channel, target: item.target, ids: [] };
    batch.ids.push(item.id);
    now.set(key, batch);
  };
  const quietUntil = situation.quietUntil ? Date.parse(situation.quietUntil) : null;
  if (situation.nextDeferredAt) wakeNoLaterThan(Date.parse(situation.nextDeferredAt));

  for (const item of situation.items) {
    if (item.status === 'deferred' && item.deliverAfter && Date.parse(item.deliverAfter) > nowMs) {
      wakeNoLaterThan(Date.parse(item.deliverAfter));
      continue;
    }
    // Critical alerts reach people whatever their settings: the one exception the requirement allows.
    if (item.severity === 'critical') {
      sendNow(item);
      continue;
    }
    const allowed = situation.channelsByCategory?.[item.category];
    if (allowed && !allowed.includes(item.channel)) {
      decide(item.id, 'suppressed', `your preferences turn off ${item.channel} for ${item.category} notifications`);
      continue;
    }
    if (quietUntil !== null && quietUntil > nowMs) {
      decide(item.id, 'deferred', 'quiet hours', quietUntil);
      wakeNoLaterThan(quietUntil);
      continue;
    }
    const window = situation.digestMinutes ?? (item.delivery.mode === 'digest' ? item.delivery.windowMinutes : null);
    if (window !== null) {
      // A member's own cadence gathers everything; a rule's digest gathers per its grouping key.
      const key = `${item.channel}|${item.target}|${situation.digestMinutes !== null ? '' : item.groupKey}|${window}`;
      const created = Date.parse(item.createdAt);
      const group = digests.get(key) ?? {
        channel: item.channel,
        target: item.target,
        ids: [],
        dueAt: created + minutes(window),
      };
      group.ids.push(item.id);
      group.dueAt = Math.min(group.dueAt, created + minutes(window));
      digests.set(key, group);
      continue;
    }
    if (item.delivery.mode === 'throttle') {
      const key = throttleKey(item.ruleId, item.channel, item.groupKey);
      const count = sent[key] ?? 0;
      if (count >= item.delivery.limit) {
        decide(
          item.id,
          'throttled',
          `at most ${item.delivery.limit} per ${describeWindow(item.delivery.windowMinutes)} for the same ${item.delivery.key ?? 'ticket'}`,
        );
        continue;
      }
      sent[key] = count + 1;
    }
    sendNow(item);
  }

  const sends: PlannedSend[] = [...now.values()].map((b) => ({ ...b, digest: false }));
  for (const group of digests.values()) {
    if (group.dueAt <= nowMs)
      sends.push({ channel: group.channel, target: group.target, ids: group.ids, digest: group.ids.length > 1 });
    else wakeNoLaterThan(group.dueAt);
  }
  return { decisions, sends, wakeAt: wakeAt === null ? null : new Date(wakeAt).toISOString() };
}
