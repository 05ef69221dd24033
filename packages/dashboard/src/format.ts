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

const timeOfDay = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** "14:05:09": for moments seconds away (when a waiting step tries again). */
export function formatTimeOfDay(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeOfDay.format(date);
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

const KB = 1024;
const MB = 1024 * KB;

/** 1536 → "1.5 KB": sizes in binary units, as the API's own messages count them ("the limit is 25 MB"). */
export function formatBytes(bytes: number): string {
  if (bytes < KB) return `${bytes} B`;
  if (bytes < MB) return `${formatUnits(bytes / KB)} KB`;
  return `${formatUnits(bytes / MB)} MB`;
}

function formatUnits(value: number): string {
  return value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
}
