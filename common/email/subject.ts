// The ticket reference in a subject, `[#123]`, and the subject of our replies. A customer's client adds its own
// reply and forward prefixes, in its own language, and keeps whatever we put in the subject; without stripping them
// each round trip would grow the subject ("Re: RE: Re: [#123] Re: [#123] …").

const TICKET_REF = /\[#(\d{1,15})\]/g;

// Reply and forward prefixes mail clients add, by language: Re/RE/Aw (de)/Sv (sv, da, no)/Vs (fi)/Antw (nl)/
// Odp (pl)/Ynt (tr)/Atb (lv)/Ats (lt)/Vá (hu)/Odg (hr)/Re: with a counter (`Re[2]:`, `Re(2):`, Lotus and some
// webmails), Fwd/Fw/WG (de)/TR (fr)/RV (es)/Enc (pt)/Doorst (nl)/PD (pl)/VL (fi)/FS (no), and the
// Chinese 回复/答复/转发 and Japanese 返信/転送. Either colon, ASCII or full-width. Bracketed tags such as `[EXTERNAL]`
// are the customer's own and are kept.
const PREFIX =
  /^\s*(?:re|aw|sv|vs|antw|odp|ynt|atb|ats|vá|odg|fwd?|wg|tr|rv|enc|doorst|pd|vl|fs|回复|答复|回覆|转发|轉寄|返信|転送)(?:\s*[[(]\d+[\])])?\s*[:：]\s*/iu;

/** The ticket number of the last `[#n]` in a subject, or null. The last one, because a forwarded or merged thread
 * keeps older references in front of the one that was added most recently. */
export function ticketNumberInSubject(subject: string): number | null {
  let last: number | null = null;
  for (const m of String(subject ?? '').matchAll(TICKET_REF)) {
    const n = Number(m[1]);
    if (Number.isSafeInteger(n) && n > 0) last = n;
  }
  return last;
}

/**
 * `Re: [#123] <subject>`: the customer's reply/forward prefixes and any `[#123]` of this ticket removed (so neither
 * doubles), whitespace and line breaks collapsed to single spaces (a subject is one header line).
 */
export function replySubject(subject: string, ticketNumber: number): string {
  const own = `[#${ticketNumber}]`;
  let s = String(subject ?? '').replace(/\s+/g, ' ');
  // Prefixes and our reference interleave in what comes back (`RE: [#123] Re: Order`), so strip both until stable.
  for (;;) {
    const before = s;
    s = s.split(own).join(' ').replace(/\s+/g, ' ').trim();
    while (PREFIX.test(s)) s = s.replace(PREFIX, '');
    if (s === before) break;
  }
  return s ? `Re: ${own} ${s}` : `Re: ${own}`;
}

/** The subject with reply/forward prefixes removed, for comparing or showing a thread's topic. */
export function baseSubject(subject: string): string {
  let s = String(subject ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  while (PREFIX.test(s)) s = s.replace(PREFIX, '');
  return s;
}
