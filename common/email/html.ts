// Inbound HTML is written by strangers and shown in the dashboard, so it is sanitised with an allow-list before it is
// stored for display (the raw message is kept separately). The choices:
// - Formatting and layout tags only (text, lists, tables, quotes, headings, links, images). Everything else is
//   dropped, and script, style, head, title, template, noscript, textarea, select/option, svg and math are dropped
//   with their content. No forms, no iframes/objects/embeds, no media.
// - No event handlers, no `id`/`class` (they could pick up the dashboard's own CSS and dress mail up as UI), no
//   `background` attribute (a remote image).
// - `style` is kept only for a short list of text properties with plain values: colour, background colour, font,
//   alignment, decoration, spacing. No `url(...)`, no positioning (a `position: fixed` overlay could cover the UI),
//   no sizes beyond the font's.
// - Links: http, https and mailto only, no protocol-relative URLs; every link opens in a new tab with
//   rel="noopener noreferrer nofollow".
// - Images: only `cid:` (pictures carried inside the message; the display layer maps them to the stored
//   attachments). Remote images are dropped: they are tracking pixels that tell the sender when, where and by whom
//   the message was read, and they load third-party content into the dashboard. data: URLs are dropped too.
import { convert } from 'html-to-text';
import type { IOptions } from 'sanitize-html';
import { onFirstUse } from '../lazy-module.ts';

const COLOR = /^(?:#[0-9a-f]{3,8}|rgba?\(\s*[\d.%\s,/]+\)|hsla?\(\s*[\d.%\s,/deg]+\)|[a-z]{3,20})$/i;
const LENGTH =
  /^(?:0|\d{1,3}(?:\.\d+)?(?:px|pt|em|rem|%)|x-small|small|medium|large|x-large|xx-large|smaller|larger)$/i;
const SPACING = /^(?:0|-?\d{1,3}(?:\.\d+)?(?:px|pt|em|rem|%)|normal)$/i;
const FONT_FAMILY = /^[\w\s,'"-]{1,200}$/;

const OPTIONS: Omit<IOptions, 'transformTags'> = {
  allowedTags: [
    'a',
    'abbr',
    'address',
    'b',
    'bdi',
    'bdo',
    'big',
    'blockquote',
    'br',
    'caption',
    'center',
    'cite',
    'code',
    'col',
    'colgroup',
    'dd',
    'del',
    'dfn',
    'div',
    'dl',
    'dt',
    'em',
    'font',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'hr',
    'i',
    'img',
    'ins',
    'kbd',
    'li',
    'mark',
    'ol',
    'p',
    'pre',
    'q',
    's',
    'samp',
    'small',
    'span',
    'strike',
    'strong',
    'sub',
    'sup',
    'table',
    'tbody',
    'td',
    'tfoot',
    'th',
    'thead',
    'tr',
    'tt',
    'u',
    'ul',
    'var',
    'wbr',
  ],
  allowedAttributes: {
    '*': ['dir', 'lang', 'title', 'align', 'valign', 'style'],
    a: ['href', 'name', 'target', 'rel'],
    img: ['src', 'alt', 'width', 'height'],
    font: ['color', 'face', 'size'],
    table: ['width', 'border', 'cellpadding', 'cellspacing', 'bgcolor'],
    td: ['width', 'height', 'colspan', 'rowspan', 'bgcolor', 'nowrap'],
    th: ['width', 'height', 'colspan', 'rowspan', 'bgcolor', 'nowrap', 'scope'],
    tr: ['bgcolor'],
    col: ['span', 'width'],
    colgroup: ['span', 'width'],
    ol: ['start', 'type', 'reversed'],
    ul: ['type'],
    li: ['value'],
    blockquote: ['cite'],
    q: ['cite'],
  },
  allowedStyles: {
    '*': {
      color: [COLOR],
      'background-color': [COLOR],
      'font-family': [FONT_FAMILY],
      'font-size': [LENGTH],
      'font-style': [/^(?:normal|italic|oblique)$/i],
      'font-weight': [/^(?:normal|bold|bolder|lighter|[1-9]00)$/i],
      'text-align': [/^(?:left|right|center|justify|start|end)$/i],
      'text-decoration': [/^(?:none|underline|overline|line-through)(?:\s+(?:solid|double|dotted|dashed|wavy))?$/i],
      'vertical-align': [/^(?:baseline|sub|super|top|middle|bottom|text-top|text-bottom)$/i],
      'white-space': [/^(?:normal|nowrap|pre|pre-wrap|pre-line)$/i],
      'line-height': [SPACING, /^\d(?:\.\d+)?$/],
      'letter-spacing': [SPACING],
      'text-indent': [SPACING],
      'margin-left': [SPACING],
      'padding-left': [SPACING],
    },
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['cid'] },
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: [
    'script',
    'style',
    'head',
    'title',
    'template',
    'noscript',
    'textarea',
    'select',
    'option',
    'svg',
    'math',
    'iframe',
    'object',
  ],
  // An <img> whose src was removed (remote, data:, javascript:) would still take up space as a broken image.
  exclusiveFilter: (frame) => frame.tag === 'img' && !/^cid:/i.test(frame.attribs.src ?? ''),
};

/**
 * The sanitiser with OPTIONS: sanitize-html is loaded by the first message or reply with HTML, not when the API
 * starts (common/lazy-module.ts).
 */
const loadSanitizer = onFirstUse(async () => {
  const { default: sanitizeHtml } = await import('sanitize-html');
  const options: IOptions = {
    ...OPTIONS,
    transformTags: {
      a: sanitizeHtml.simpleTransform('a', { target: '_blank', rel: 'noopener noreferrer nofollow' }),
    },
  };
  return (html: string) => sanitizeHtml(html, options);
});

export async function sanitizeEmailHtml(html: string): Promise<string> {
  const sanitize = await loadSanitizer();
  return sanitize(String(html ?? '')).trim();
}

/** A readable plain-text rendering: no line wrapping (the viewer wraps), no images, headings as written, links as
 * `text [url]` unless the text is the url, blockquotes as `> ` lines (so splitQuoted recognises them). */
export function htmlToPlainText(html: string): string {
  return convert(String(html ?? ''), {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'h4', options: { uppercase: false } },
      { selector: 'h5', options: { uppercase: false } },
      { selector: 'h6', options: { uppercase: false } },
      // Mail HTML nests layout tables many levels deep; laid out as text columns they wrap prose at 60 characters
      // and scatter it. A line per cell reads well for layout tables and acceptably for data tables.
      { selector: 'table', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
      { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
      { selector: 'th', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
      { selector: 'td', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
      { selector: 'head', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'script', format: 'skip' },
    ],
  }).trim();
}
