// The <option>s of the ticket status and priority pickers, shared by the filters, the new-ticket form and the
// ticket controls so the three always offer the same values with the same labels.
import { ticketPriorities, ticketStatuses } from '../../api.ts';
import { humanize } from '../../format.ts';

export function StatusOptions() {
  return (
    <>
      {ticketStatuses.map((s) => (
        <option key={s} value={s}>
          {humanize(s)}
        </option>
      ))}
    </>
  );
}

export function PriorityOptions() {
  return (
    <>
      {ticketPriorities.map((p) => (
        <option key={p} value={p}>
          {p}
        </option>
      ))}
    </>
  );
}
