// Ids we choose for what we create in Linear. Linear accepts a client-chosen UUID on create, so an attempt that
// lost its answer can look up what it may already have created instead of creating it again.
import { createHash } from 'node:crypto';

/** A UUID (version 4 layout, as Linear expects) derived from the parts. */
export function deterministicUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The id of the Linear comment that mirrors a ticket comment on one link. */
export function mirroredCommentId(linkId: string, ticketCommentId: string): string {
  return deterministicUuid('switchboard/linear-comment', linkId, ticketCommentId);
}

/** The id of the issue one create request makes (the same request key never makes a second issue). */
export function requestedIssueId(integrationId: string, ticketId: string, requestKey: string): string {
  return deterministicUuid('switchboard/linear-issue', integrationId, ticketId, requestKey);
}
