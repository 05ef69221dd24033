// The HTML and plain-text bodies of the mail we send. Mail clients are not browsers: Outlook for Windows renders
// with Word, Gmail drops <style> blocks in some views and most clients ignore external CSS. So the layout is nested
// tables with inline styles, 600px wide at most (the width every client handles without horizontal scrolling),
// fluid below it, with a hidden preheader (the preview line clients show next to the subject).
//
// Every interpolated value is escaped here, whatever the caller passes: branding, subject, footer, quote and plain
// body are text. The only HTML that goes in unescaped is `bodyHtml`, which must already be sanitised
// (sanitizeEmailHtml). URLs in text become links; the ticket link and the accent colour are validated (http(s)
// only, a hex colour), anything else falls back to a default.
import { htmlToPlainText } from './html.ts';

export type RenderEmailInput = {
  kind: 'reply' | 'auto_reply';
  branding: { name: string; accentColor?: string; footer?: string };
  ticket: { number: number; subject: string; url?: string };
  bodyText?: string;
  /** Already sanitised (sanitizeEmailHtml). */
  bodyHtml?: string;
  quote?: { from: string; date: Date; text: string };
};

export type RenderedEmail = { html: string; text: string };

const DEFAULT_ACCENT = '#2563eb';
const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const PREHEADER_CHARS = 140;
// The acknowledgement's text is configured per mailbox; these lines are the default and the closing hint.
const AUTO_REPLY_DEFAULT = 'We have received your request and will get back to you as soon as we can.';
const AUTO_REPLY_HINT = 'You can reply to this email to add to your request.';

export function escapeHtml(value: string): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A URL as an href, or null unless it is an absolute http(s) URL. */
function safeUrl(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

// http(s) URLs and www. hosts in running text. Trailing punctuation belongs to the sentence, not the URL; a closing
// parenthesis only belongs to the URL when it closes one opened inside it (Wikipedia links).
const URL_IN_TEXT = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;

function trimUrl(raw: string): string {
  let url = raw.replace(/[.,;:!?*]+$/, '');
  while (url.endsWith(')') && (url.match(/\(/g)?.length ?? 0) < (url.match(/\)/g)?.length ?? 0))
    url = url.slice(0, -1).replace(/[.,;:!?*]+$/, '');
  return url;
}

/** Plain text as HTML: escaped, URLs linked, line breaks kept. */
export function textToHtml(text: string, linkColor = DEFAULT_ACCENT): string {
  const source = String(text ?? '').replace(/\r\n?/g, '\n');
  let out = '';
  let last = 0;
  for (const m of source.matchAll(URL_IN_TEXT)) {
    const url = trimUrl(m[0]);
    const href = safeUrl(url.startsWith('www.') ? `http://${url}` : url);
    if (!href) continue;
    out += escapeHtml(source.slice(last, m.index));
    out += `<a href="${escapeHtml(href)}" style="color:${linkColor};text-decoration:underline;">${escapeHtml(url)}</a>`;
    last = m.index + url.length;
  }
  out += escapeHtml(source.slice(last));
  return out.replace(/\n/g, '<br>\n');
}

function formatDate(date: Date): string {
  // A fixed locale and UTC: the mail is rendered on the server, for a reader whose zone we do not know.
  const formatted = new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(date);
  return `${formatted} UTC`;
}

export function renderEmail(input: RenderEmailInput): RenderedEmail {
  const accent =
    input.branding.accentColor && HEX_COLOR.test(input.branding.accentColor)
      ? input.branding.accentColor
      : DEFAULT_ACCENT;
  const brand = String(input.branding.name ?? '').trim();
  const ref = `[#${Math.trunc(input.ticket.number)}]`;
  const subject = String(input.ticket.subject ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  const ticketUrl = safeUrl(input.ticket.url);
  const footer = String(input.branding.footer ?? '').trim();

  const bodyText =
    input.bodyText != null
      ? String(input.bodyText).trim()
      : input.bodyHtml != null
        ? htmlToPlainText(input.bodyHtml)
        : '';
  const auto = input.kind === 'auto_reply';
  const intro = auto && !bodyText && !input.bodyHtml ? AUTO_REPLY_DEFAULT : '';
  const hint = auto ? AUTO_REPLY_HINT : '';
  const bodyHtml =
    input.bodyHtml != null
      ? input.bodyHtml
      : bodyText
        ? `<p style="margin:0 0 16px 0;">${textToHtml(bodyText, accent)}</p>`
        : '';
  const preheader = `${intro ? `${intro} ` : ''}${bodyText}`.replace(/\s+/g, ' ').trim().slice(0, PREHEADER_CHARS);

  const quoteHtml = input.quote
    ? `<tr><td class="sb-pad" style="padding:0 32px 24px 32px;font-family:${FONT};font-size:13px;line-height:20px;color:#6b7280;">` +
      `<p style="margin:0 0 8px 0;">On ${escapeHtml(formatDate(input.quote.date))}, ${escapeHtml(input.quote.from)} wrote:</p>` +
      `<blockquote style="margin:0;padding:0 0 0 12px;border-left:3px solid #d1d5db;color:#6b7280;">${textToHtml(input.quote.text, accent)}</blockquote>` +
      '</td></tr>'
    : '';
  const linkHtml = ticketUrl
    ? `<p style="margin:16px 0 0 0;"><a href="${escapeHtml(ticketUrl)}" style="color:${accent};text-decoration:underline;">View your request ${escapeHtml(ref)}</a></p>`
    : '';

  const html = `<!DOCTYPE html>
<html lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>${escapeHtml(`${ref} ${subject}`.trim())}</title>
<style>
@media only screen and (max-width: 620px) { .sb-pad { padding-left: 16px !important; padding-right: 16px !important; } }
</style>
</head>
<body style="margin:0;padding:0;background-color:#f3f4f6;">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;line-height:1px;color:#f3f4f6;opacity:0;">${escapeHtml(preheader)}${'&#847;&zwnj;&nbsp;'.repeat(30)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:24px 8px;">
<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background-color:#ffffff;border-radius:8px;border-top:4px solid ${accent};">
<tr><td class="sb-pad" style="padding:24px 32px 8px 32px;font-family:${FONT};font-size:16px;line-height:24px;font-weight:bold;color:#111827;">${escapeHtml(brand)}</td></tr>
<tr><td class="sb-pad" style="padding:0 32px 16px 32px;font-family:${FONT};font-size:13px;line-height:20px;color:#6b7280;">${escapeHtml(ref)} ${escapeHtml(subject)}</td></tr>
<tr><td class="sb-pad" style="padding:0 32px 24px 32px;font-family:${FONT};font-size:15px;line-height:24px;color:#111827;">
${intro ? `<p style="margin:0 0 16px 0;">${escapeHtml(intro)}</p>` : ''}${bodyHtml}${linkHtml}${hint ? `<p style="margin:16px 0 0 0;font-size:13px;color:#6b7280;">${escapeHtml(hint)}</p>` : ''}
</td></tr>
${quoteHtml}
${footer ? `<tr><td class="sb-pad" style="padding:16px 32px 24px 32px;border-top:1px solid #e5e7eb;font-family:${FONT};font-size:12px;line-height:18px;color:#9ca3af;">${textToHtml(footer, accent)}</td></tr>` : ''}
</table>
<!--[if mso]></td></tr></table><![endif]-->
</td></tr>
</table>
</body>
</html>
`;

  const text = [
    intro,
    bodyText,
    ticketUrl ? `View your request ${ref}: ${ticketUrl}` : '',
    hint,
    input.quote
      ? `On ${formatDate(input.quote.date)}, ${input.quote.from} wrote:\n${quoteLines(input.quote.text)}`
      : '',
    ['-- ', brand, `${ref} ${subject}`.trim(), footer].filter(Boolean).join('\n'),
  ]
    .filter(Boolean)
    .join('\n\n');

  return { html, text: `${text}\n` };
}

function quoteLines(text: string): string {
  return String(text ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(/\s+$/, '')
    .split('\n')
    .map((line) => (line ? `> ${line}` : '>'))
    .join('\n');
}
