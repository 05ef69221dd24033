// How values read on screen: statuses, priorities, times, people.
import type { Member } from './api.ts';

/** "on_hold" → "on hold": enum values as words. */
export function humanize(value: string): string {
  return value.replaceAll('_', ' ');
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function memberName(members: Member[] | undefined, userId: string | null): string {
  if (!userId) return 'Unassigned';
  const member = members?.find((m) => m.userId === userId);
  return member ? member.name || member.email : 'Unknown user';
}

/** "billing, vip , " → ["billing", "vip"] */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}
