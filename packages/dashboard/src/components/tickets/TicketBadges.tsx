import type { TicketPriority, TicketStatus } from '../../api.ts';
import { humanize } from '../../format.ts';

export function StatusBadge({ status }: { status: TicketStatus }) {
  return <span className={`badge badge-value status-${status}`}>{humanize(status)}</span>;
}

export function PriorityBadge({ priority }: { priority: TicketPriority }) {
  return <span className={`badge badge-value priority-${priority}`}>{priority}</span>;
}
