// Email addresses as the threading and auto-reply rules compare them. Mail systems treat the domain as
// case-insensitive and, in practice, the local part too (RFC 5321 allows a case-sensitive local part, but no
// mainstream provider uses one, and a customer who writes "Jane.Doe@" one day and "jane.doe@" the next is one
// person). `+tag` sub-addressing (RFC 5233) delivers to the same mailbox, so it does not make a different sender.

export type AddressParts = { local: string; domain: string };

/**
 * The bare address, lowercased: `  "Jane" <Jane@Example.COM> ` → `jane@example.com`. A display name is dropped (the
 * address is what is inside the last `<…>`), and so are a `mailto:` scheme and a trailing dot on the domain.
 */
export function normalizeAddress(a: string): string {
  let s = String(a ?? '').trim();
  const open = s.lastIndexOf('<');
  if (open !== -1) {
    const close = s.indexOf('>', open);
    s = s.slice(open + 1, close === -1 ? undefined : close);
  }
  s = s
    .replace(/^[<\s]+|[>\s]+$/g, '')
    .replace(/^mailto:/i, '')
    .toLowerCase();
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/** Local part and domain of the normalised address, split at the last `@` (a quoted local part may contain one). */
export function splitAddress(a: string): AddressParts {
  const n = normalizeAddress(a);
  const at = n.lastIndexOf('@');
  if (at === -1) return { local: n, domain: '' };
  return { local: n.slice(0, at), domain: n.slice(at + 1) };
}

/** The local part without its `+tag`: `jane+orders` → `jane`. */
export function baseLocalPart(local: string): string {
  const plus = local.indexOf('+');
  // `+x@…` has no base to share: it is its own mailbox, not the same one as every other `+y@…`.
  return plus <= 0 ? local : local.slice(0, plus);
}

/**
 * Whether two addresses deliver to the same mailbox: equal after normalisation, ignoring `+tag` sub-addressing.
 * Something that is not an address (no local part or no domain) is nobody's mailbox.
 */
export function isSameMailbox(a: string, b: string): boolean {
  const x = splitAddress(a);
  const y = splitAddress(b);
  if (!x.local || !x.domain || !y.local || !y.domain) return false;
  return x.domain === y.domain && baseLocalPart(x.local) === baseLocalPart(y.local);
}
