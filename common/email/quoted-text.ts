// Splits a plain-text email body into what the sender wrote and what they quoted or signed, for the ticket view
// (the quoted part is shown collapsed; the caller keeps the full text). The split is one cut: everything from the
// first line of the quote or signature to the end is `quoted`. Only a trailing quote is cut: in an interleaved
// reply the quoted lines are the questions the answers refer to, and they stay visible.
//
// Recognised, by the first that applies:
// - a reply header that introduces a top-posted quote: "On <date>, <name> wrote:" (Gmail wraps it over up to three
//   lines; Apple Mail writes "On <date>, at <time>, <name> wrote:") and its equivalents in German, French,
//   Spanish, Italian, Dutch, Portuguese, the Scandinavian languages, Polish, Russian, Chinese and Japanese;
//   Outlook's "-----Original Message-----" (and its translations); Outlook's header block ("From: … / Sent: … /
//   To: … / Subject: …", localised, possibly under a "____" rule or with `*bold*` labels from an HTML conversion);
// - a trailing block of `>` lines, with the attribution line just above it;
// then, in what is left, a signature: the `-- ` separator (RFC 3676 §4.3; many clients drop the trailing space)
// followed by at most 15 lines, or a last "Sent from my iPhone"-style line.
// Forwarded messages ("---------- Forwarded message ---------", "Begin forwarded message:") are content, not quotes.
// If the cut would leave nothing visible (a bare forward of a quote, a message that is only a signature), nothing is
// cut: the ticket view must never show an empty message.

export type QuotedSplit = { visible: string; quoted: string };

const MAX_SIGNATURE_LINES = 15;

// Whole-header patterns, tested against the header's lines joined by a space.
const REPLY_HEADERS: RegExp[] = [
  /^On\s.{1,300}\swrote\s?:$/i, // English (Gmail, Apple Mail, Thunderbird, most others)
  /^Am\s.{1,300}\sschrieb\s?.{0,200}:$/i, // German: "Am … schrieb Name <a@b>:"
  /^Le\s.{1,300}\sa\sécrit\s?:$/i, // French
  /^El\s.{1,300}\sescribió\s?:$/i, // Spanish
  /^Il\s.{1,300}\sha\sscritto\s?:$/i, // Italian
  /^Op\s.{1,300}\sschreef\s?.{0,200}:$/i, // Dutch
  /^Em\s.{1,300}\sescreveu\s?:$/i, // Portuguese
  /^(?:Den|På)\s.{1,300}\sskrev\s?.{0,200}:$/i, // Swedish, Danish, Norwegian
  /^(?:W\sdniu|Dnia)\s.{1,300}\s(?:pisze|napisał\(a\)|napisał|napisała)\s?:$/i, // Polish
  /^.{1,300}\s(?:написал(?:\(а\)|а)?|пишет)\s?:$/i, // Russian: "… Имя <a@b> написал:", Thunderbird "… пишет:"
  /^.{1,300}写道\s?[:：]$/, // Chinese (Foxmail, QQ, Apple Mail zh)
  /^.{1,300}(?:のメッセージ|書きました)\s?[:：]$/, // Japanese
];

// An attribution above a trailing `>` block need not match a whole pattern (clients let users customise it,
// Thunderbird's default is "Name wrote:"): ending in one of these words is enough there.
const ATTRIBUTION_END =
  /(?:wrote|schrieb|a\sécrit|escribió|ha\sscritto|schreef|escreveu|skrev|pisze|napisał\(a\)|napisał|napisała|написал(?:\(а\)|а)?|пишет|写道|のメッセージ|書きました)\s?[:：]$/i;

const ORIGINAL_MESSAGE =
  /^[-_=\s]*-{2,}\s*(?:Original\sMessage|Ursprüngliche\sNachricht|Message\sd'origine|Mensaje\soriginal|Messaggio\soriginale|Oorspronkelijk\sbericht|Mensagem\soriginal|Originalmeddelande|Oprindelig\smeddelelse|Opprinnelig\smelding|Wiadomość\soryginalna|Исходное\sсообщение|Původní\szpráva)\s*-{2,}[-_=\s]*$/i;

// Outlook's quoted header block, localised labels. `*From:*` comes from converting Outlook's bold labels to text.
const FROM_LABEL = /^\*?(?:From|Von|De|Van|Da|Från|Fra|Od|От|Lähettäjä|Feladó|Kimden|发件人|差出人)\s?\*?\s?[:：]/i;
const SENT_LABEL =
  /^\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Date|Enviado|Enviada|Fecha|Verzonden|Inviato|Data|Skickat|Sendt|Wysłano|Отправлено|Дата|Lähetetty|Elküldve|Gönderildi|Tarih|发送时间|日期|送信日時)\s?(?:el|em|le)?\s?\*?\s?[:：]/i;
const RULE = /^\s*_{8,}\s*$/;

const FORWARDED =
  /(?:-{2,}\s*Forwarded\smessage|Begin\sforwarded\smessage|-{2,}\s*Weitergeleitete\sNachricht|-{2,}\s*Message\stransféré|-{2,}\s*Mensaje\sreenviado|-{2,}\s*Messaggio\sinoltrato|-{2,}\s*Doorgestuurd\sbericht)/i;

const MOBILE_SIGNATURE =
  /^(?:Sent\sfrom\smy\s.{1,40}|Sent\sfrom\s(?:Mail|Outlook)\sfor\s.{1,30}|Get\sOutlook\sfor\s.{1,30}|Von\smeinem\s.{1,40}\sgesendet|Envoyé\sde\smon\s.{1,40}|Enviado\sdesde\smi\s.{1,40})$/i;

const SIGNATURE_SEPARATOR = /^--\s?$/;

const isQuoteLine = (line: string) => /^\s*>/.test(line);
const isBlank = (line: string) => line.trim() === '';

export function splitQuoted(text: string): QuotedSplit {
  const source = String(text ?? '').replace(/\r\n?/g, '\n');
  const lines = source.split('\n');
  let cut = replyHeaderCut(lines) ?? trailingQuoteCut(lines) ?? lines.length;
  cut = signatureStart(lines, cut) ?? cut;

  const visible = lines.slice(0, cut).join('\n').replace(/\s+$/, '');
  if (cut >= lines.length || visible.trim() === '') return { visible: source.replace(/\s+$/, ''), quoted: '' };
  return {
    visible,
    quoted: lines
      .slice(cut)
      .join('\n')
      .replace(/^\n+|\s+$/g, ''),
  };
}

/** The first line of a reply header that introduces a top-posted quote, or null. */
function replyHeaderCut(lines: string[]): number | null {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || isQuoteLine(line)) continue;
    if (ORIGINAL_MESSAGE.test(line)) return forwardedAbove(lines, i) ? null : i;
    if (FROM_LABEL.test(line) && outlookBlockAt(lines, i) && !forwardedAbove(lines, i)) {
      const above = previousNonBlank(lines, i);
      return above !== null && RULE.test(lines[above]!) ? above : i;
    }
    const end = replyHeaderEnd(lines, i);
    if (end !== null && !interleavedAfter(lines, end)) return i;
  }
  return null;
}

/** The last line of a reply header starting at line i (it may be wrapped over up to three lines), or null. */
function replyHeaderEnd(lines: string[], i: number): number | null {
  let joined = '';
  for (let k = i; k < Math.min(lines.length, i + 3); k++) {
    const line = lines[k]!.trim();
    if (!line || (k > i && isQuoteLine(line))) return null;
    joined = joined ? `${joined} ${line}` : line;
    if (REPLY_HEADERS.some((re) => re.test(joined))) return k;
  }
  return null;
}

/** From: followed within the next five lines by a Sent:/Date: label. */
function outlookBlockAt(lines: string[], i: number): boolean {
  for (let k = i + 1; k < Math.min(lines.length, i + 6); k++) if (SENT_LABEL.test(lines[k]!.trim())) return true;
  return false;
}

function forwardedAbove(lines: string[], i: number): boolean {
  for (let k = i - 1, seen = 0; k >= 0 && seen < 2; k--) {
    if (isBlank(lines[k]!)) continue;
    seen++;
    if (FORWARDED.test(lines[k]!)) return true;
  }
  return false;
}

/** After a reply header: a `>` block followed by the sender's own lines means answers between the quotes. */
function interleavedAfter(lines: string[], end: number): boolean {
  let quoted = false;
  for (let k = end + 1; k < lines.length; k++) {
    const line = lines[k]!;
    if (isBlank(line)) continue;
    if (isQuoteLine(line)) quoted = true;
    else if (!quoted)
      return false; // unprefixed text right under the header: a quote converted from HTML
    else if (SIGNATURE_SEPARATOR.test(line.trimEnd())) return false;
    else return true;
  }
  return false;
}

/** The start of the trailing block of `>` lines (with the attribution just above it), or null. */
function trailingQuoteCut(lines: string[]): number | null {
  let k = lines.length - 1;
  while (k >= 0 && isBlank(lines[k]!)) k--;
  // Some clients put the signature under the quote; look past it for the quote. (When the quote is last, a
  // signature above it is cut afterwards, in splitQuoted.)
  const sig = k >= 0 && !isQuoteLine(lines[k]!) ? signatureStart(lines, k + 1) : null;
  if (sig !== null) {
    k = sig - 1;
    while (k >= 0 && isBlank(lines[k]!)) k--;
  }
  let start: number | null = null;
  while (k >= 0 && (isQuoteLine(lines[k]!) || isBlank(lines[k]!))) {
    if (isQuoteLine(lines[k]!)) start = k;
    k--;
  }
  if (start === null) return null;
  const above = previousNonBlank(lines, start);
  if (above !== null) {
    // The attribution may be wrapped: try it as the last line of a one- to three-line header.
    for (let first = above; first >= Math.max(0, above - 2); first--) {
      const joined = lines
        .slice(first, above + 1)
        .map((l) => l.trim())
        .join(' ');
      if (lines.slice(first, above + 1).some(isBlank)) break;
      if (ATTRIBUTION_END.test(joined) && (first === above || REPLY_HEADERS.some((re) => re.test(joined))))
        return first;
    }
  }
  return start;
}

/** The start of a signature that ends the text before line `end`, or null. */
function signatureStart(lines: string[], end: number): number | null {
  let last = end - 1;
  while (last >= 0 && isBlank(lines[last]!)) last--;
  if (last < 0) return null;
  for (let k = last; k >= Math.max(0, last - MAX_SIGNATURE_LINES); k--)
    if (SIGNATURE_SEPARATOR.test(lines[k]!.trimEnd())) return k;
  if (MOBILE_SIGNATURE.test(lines[last]!.trim())) return last;
  return null;
}

function previousNonBlank(lines: string[], i: number): number | null {
  for (let k = i - 1; k >= 0; k--) if (!isBlank(lines[k]!)) return k;
  return null;
}
