// Message-IDs as threading compares and stores them. Headers write them as `<left@right>`; clients and gateways differ
// in spacing, folding and whether the angle brackets survive (mailparser keeps them, some webhook providers strip
// them). RFC 5322 makes the id case-sensitive, and some generators do produce ids differing only in case, so the
// comparison form keeps the case and drops only the brackets and whitespace.

/** The comparison and storage form: `  <Abc@Example.com>  ` → `Abc@Example.com`. */
export function normalizeMessageId(id: string): string {
  return String(id ?? '')
    .replace(/\s+/g, '')
    .replace(/^<+/, '')
    .replace(/>+$/, '');
}

/** RFC 5322's line limit: no genuine Message-ID is longer. A longer one cannot be a key of the ledger (a btree entry
 * holds at most 2704 bytes), and anyone can send one, so it counts as no Message-ID at all. */
export const MAX_MESSAGE_ID_BYTES = 998;

/** Whether a normalised Message-ID can be stored and looked up as the message's key. */
export function isStorableMessageId(id: string): boolean {
  return id.length > 0 && Buffer.byteLength(id, 'utf8') <= MAX_MESSAGE_ID_BYTES;
}

/** The header form: `abc@example.com` or `<abc@example.com>` → `<abc@example.com>`. */
export function formatMessageId(id: string): string {
  const bare = normalizeMessageId(id);
  return bare ? `<${bare}>` : '';
}

/**
 * Every Message-ID in a header value (In-Reply-To may name several; References names the chain), normalised, in
 * order, duplicates dropped. Takes `<a@b> <c@d>`, folded values, comments between ids, and ids without brackets
 * separated by whitespace or commas (written by some broken clients).
 */
export function parseMessageIds(value: string | string[] | null | undefined): string[] {
  const values = Array.isArray(value) ? value : value == null ? [] : [value];
  const ids = new Set<string>();
  for (const v of values) {
    const text = String(v ?? '');
    const bracketed = [...text.matchAll(/<([^<>]*)>/g)].map((m) => m[1] ?? '');
    const found = bracketed.length ? bracketed : text.split(/[\s,]+/);
    for (const raw of found) {
      const id = normalizeMessageId(raw);
      // An id without `@` is not a Message-ID (RFC 5322 msg-id is id-left "@" id-right); it is a comment or noise.
      if (id.includes('@')) ids.add(id);
    }
  }
  return [...ids];
}
