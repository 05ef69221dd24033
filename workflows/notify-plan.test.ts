import assert from 'node:assert/strict';
import { type DueNotification, planNotifications, type RecipientSituation, throttleKey } from './notify-plan.ts';

const T0 = Date.parse('2026-12-03T12:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

let nextId = 1;
function item(over: Partial<DueNotification> = {}): DueNotification {
  return {
    id: nextId++,
    channel: 'in_app',
    target: '',
    category: 'ticket',
    severity: 'normal',
    delivery: { mode: 'immediate' },
    groupKey: 'ticket-1',
    ruleId: 'rule-1',
    status: 'pending',
    createdAt: at(0),
    deliverAfter: null,
    failingSince: null,
    ...over,
  };
}

function situation(items: DueNotification[], over: Partial<RecipientSituation> = {}): RecipientSituation {
  return {
    items,
    channelsByCategory: null,
    quietUntil: null,
    digestMinutes: null,
    sentInWindow: {},
    more: false,
    nextDeferredAt: null,
    ...over,
  };
}

describe('planNotifications: what a recipient’s workflow does with what waits for them', () => {
  it('sends immediate notifications now, one send per channel', () => {
    const a = item();
    const b = item({ channel: 'email' });
    const c = item();
    const plan = planNotifications(situation([a, b, c]), T0);
    assert.deepEqual(plan.sends, [
      { channel: 'in_app', target: '', ids: [a.id, c.id], digest: false },
      { channel: 'email', target: '', ids: [b.id], digest: false },
    ]);
    assert.deepEqual(plan.decisions, []);
    assert.equal(plan.wakeAt, null);
  });

  it('gathers a digest until its window closes from the first item, then sends one summary', () => {
    const items = [0, 1, 2].map((m) => item({ delivery: { mode: 'digest', windowMinutes: 10 }, createdAt: at(m) }));
    const early = planNotifications(situation(items), T0 + 5 * 60_000);
    assert.deepEqual(early.sends, []);
    assert.equal(early.wakeAt, at(10));
    const due = planNotifications(situation(items), T0 + 10 * 60_000);
    assert.deepEqual(due.sends, [{ channel: 'in_app', target: '', ids: items.map((i) => i.id), digest: true }]);
  });

  it('keeps a rule’s digest groups apart, and a member’s own cadence gathers everything', () => {
    const one = item({ delivery: { mode: 'digest', windowMinutes: 10 }, groupKey: 't1' });
    const two = item({ delivery: { mode: 'digest', windowMinutes: 10 }, groupKey: 't2' });
    const apart = planNotifications(situation([one, two]), T0 + 10 * 60_000);
    assert.equal(apart.sends.length, 2);
    const hourly = planNotifications(situation([one, two, item()], { digestMinutes: 60 }), T0 + 60 * 60_000);
    assert.equal(hourly.sends.length, 1);
    assert.equal(hourly.sends[0]!.ids.length, 3);
  });

  it('throttles to the limit within the window, counting what was already sent', () => {
    const delivery = { mode: 'throttle', limit: 2, windowMinutes: 60 } as const;
    const items = [item({ delivery }), item({ delivery }), item({ delivery })];
    const plan = planNotifications(
      situation(items, { sentInWindow: { [throttleKey('rule-1', 'in_app', 'ticket-1')]: 1 } }),
      T0,
    );
    assert.deepEqual(plan.sends, [{ channel: 'in_app', target: '', ids: [items[0]!.id], digest: false }]);
    assert.deepEqual(plan.decisions, [
      { ids: [items[1]!.id, items[2]!.id], status: 'throttled', reason: 'at most 2 per 1 h for the same ticket' },
    ]);
  });

  it('throttles each channel on its own, and sends to each webhook endpoint apart', () => {
    const delivery = { mode: 'throttle', limit: 1, windowMinutes: 60 } as const;
    const inApp = item({ delivery });
    const email = item({ delivery, channel: 'email' });
    const e1 = item({ channel: 'webhook', target: 'endpoint-1' });
    const e2 = item({ channel: 'webhook', target: 'endpoint-2' });
    const plan = planNotifications(situation([inApp, email, e1, e2]), T0);
    assert.deepEqual(plan.decisions, []);
    assert.deepEqual(
      plan.sends.map((s) => [s.channel, s.target, s.ids]),
      [
        ['in_app', '', [inApp.id]],
        ['email', '', [email.id]],
        ['webhook', 'endpoint-1', [e1.id]],
        ['webhook', 'endpoint-2', [e2.id]],
      ],
    );
  });

  it('wakes for a deferred notification the loader left out because it is not due yet', () => {
    assert.equal(planNotifications(situation([], { nextDeferredAt: at(45) }), T0).wakeAt, at(45));
  });

  it('suppresses what the member turned off, and defers the rest to the end of quiet hours', () => {
    const off = item({ channel: 'email', category: 'comment' });
    const quiet = item({ channel: 'in_app', category: 'comment' });
    const plan = planNotifications(
      situation([off, quiet], { channelsByCategory: { comment: ['in_app'] }, quietUntil: at(420) }),
      T0,
    );
    assert.deepEqual(plan.sends, []);
    assert.deepEqual(plan.decisions, [
      { ids: [off.id], status: 'suppressed', reason: 'your preferences turn off email for comment notifications' },
      { ids: [quiet.id], status: 'deferred', reason: 'quiet hours', deliverAfter: at(420) },
    ]);
    assert.equal(plan.wakeAt, at(420));
  });

  it('lets critical alerts through everything: off, quiet hours and digests', () => {
    const critical = item({ severity: 'critical', delivery: { mode: 'digest', windowMinutes: 60 }, category: 'sla' });
    const plan = planNotifications(
      situation([critical], { channelsByCategory: { sla: [] }, quietUntil: at(60), digestMinutes: 60 }),
      T0,
    );
    assert.deepEqual(plan.sends, [{ channel: 'in_app', target: '', ids: [critical.id], digest: false }]);
  });

  it('waits for a deferred notification’s time, then treats it like a new one', () => {
    const deferred = item({ status: 'deferred', deliverAfter: at(30) });
    assert.equal(planNotifications(situation([deferred]), T0).wakeAt, at(30));
    assert.deepEqual(planNotifications(situation([deferred]), T0 + 30 * 60_000).sends, [
      { channel: 'in_app', target: '', ids: [deferred.id], digest: false },
    ]);
  });
});
