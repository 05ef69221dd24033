// A ticket's attachments as the dashboard shows them: what each one's scan status says in words, why an upload was
// refused, and the list itself, polled while a file waits for its virus scan.
import { useCallback, useEffect, useRef, useState } from 'react';
import { type Attachment, describeError, listAttachments } from './api.ts';
import { formatBytes, formatTimeOfDay } from './format.ts';

/** How often the list is read again while any file waits for its scan. */
export const SCAN_POLL_MS = 1000;

/** Where an attachment stands, in words: the badge's text. */
export function scanStatusText(attachment: Attachment): string {
  switch (attachment.scanStatus) {
    case 'pending_scan':
      return attachment.waiting
        ? `waiting: ${attachment.waiting.reason}${attachment.waiting.until ? ` until ${formatTimeOfDay(attachment.waiting.until)}` : ''}`
        : 'pending scan';
    case 'clean':
      return 'clean';
    case 'infected':
      return `blocked: malware detected${attachment.scanSignature ? ` (${attachment.scanSignature})` : ''}`;
    case 'failed':
      return `failed${attachment.failureReason ? `: ${attachment.failureReason}` : ''}`;
  }
}

/** The badge's colour: waiting and pending look alike, a block and a failure are both errors. */
export function scanStatusTone(attachment: Attachment): 'pending' | 'waiting' | 'clean' | 'blocked' | 'failed' {
  switch (attachment.scanStatus) {
    case 'pending_scan':
      return attachment.waiting ? 'waiting' : 'pending';
    case 'clean':
      return 'clean';
    case 'infected':
      return 'blocked';
    case 'failed':
      return 'failed';
  }
}

/**
 * The API names the file first ("photo.jpg: this looks like a Windows program; not allowed"); beside the file's own
 * row the name is already there, so only the reason is shown. A name the server sanitised differently stays.
 */
export function refusalText(message: string, fileName: string): string {
  const prefix = `${fileName}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/** The refusal the server would give a file over the limit, said before a byte is sent. */
export function tooLargeText(size: number, limit: number): string {
  return `too large (${formatBytes(size)}; the limit is ${formatBytes(limit)})`;
}

export type TicketAttachments = {
  attachments: Attachment[] | undefined;
  error: string | null;
  /** Reads the list again now (after an upload or a delete). */
  reload: () => Promise<void>;
};

/**
 * The ticket's attachments, read again every SCAN_POLL_MS while any of them is pending_scan, until none is.
 * `onChange` hears when a file appears, disappears or changes status (the timeline has an event for each).
 */
export function useTicketAttachments(ticketId: string, onChange?: () => void): TicketAttachments {
  const [attachments, setAttachments] = useState<Attachment[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  // Bumped after every read, answered or not: the poll waits for the previous read before it schedules the next.
  const [reads, setReads] = useState(0);
  const latest = useRef(0);
  const known = useRef<Map<string, Attachment['scanStatus']> | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new ticket starts a new list
  useEffect(() => {
    known.current = null;
    setAttachments(undefined);
  }, [ticketId]);

  const reload = useCallback(async () => {
    const read = ++latest.current;
    try {
      const { data } = await listAttachments(ticketId);
      if (read !== latest.current) return;
      const statuses = new Map(data.map((a) => [a.id, a.scanStatus]));
      const before = known.current;
      known.current = statuses;
      setAttachments(data);
      setError(null);
      if (before && (before.size !== statuses.size || [...statuses].some(([id, status]) => before.get(id) !== status)))
        changed.current?.();
    } catch (e) {
      if (read === latest.current) setError(describeError(e));
    } finally {
      if (read === latest.current) setReads((n) => n + 1);
    }
  }, [ticketId]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const scanning = attachments?.some((a) => a.scanStatus === 'pending_scan') ?? false;
  // biome-ignore lint/correctness/useExhaustiveDependencies: each finished read schedules the next while one is pending
  useEffect(() => {
    if (!scanning) return;
    const timer = setTimeout(() => void reload(), SCAN_POLL_MS);
    return () => clearTimeout(timer);
  }, [scanning, reads, reload]);

  return { attachments, error, reload };
}
