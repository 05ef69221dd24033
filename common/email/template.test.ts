import assert from 'node:assert/strict';
import { escapeHtml, type RenderEmailInput, renderEmail, textToHtml } from './template.ts';

const base: RenderEmailInput = {
  kind: 'reply',
  branding: { name: 'Acme Support', accentColor: '#0a7cff', footer: 'Acme Inc., 1 Main St' },
  ticket: { number: 123, subject: 'Printer on fire', url: 'https://help.acme.example/t/123' },
  bodyText: 'Hello Jane,\n\nplease restart it.',
};
const SCRIPT = '<script>alert(1)</script>';

describe('email template', () => {
  it('renders a table-based, 600px, inline-styled layout with a preheader', () => {
    const { html } = renderEmail(base);
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(html, /<table role="presentation"[^>]*style="max-width:600px;/);
    assert.match(html, /<!--\[if mso\]><table role="presentation" width="600"/);
    assert.match(html, /<div style="display:none;[^"]*">Hello Jane, please restart it\./);
    assert.match(html, /border-top:4px solid #0a7cff/);
  });

  it('shows the branding, the ticket reference and subject, and the ticket link', () => {
    const { html } = renderEmail(base);
    assert.match(html, />Acme Support</);
    assert.match(html, />\[#123\] Printer on fire</);
    assert.match(html, /<a href="https:\/\/help.acme.example\/t\/123"[^>]*>View your request \[#123\]<\/a>/);
    assert.match(html, /Acme Inc., 1 Main St/);
  });

  it('turns the text body into escaped HTML with line breaks', () => {
    const { html } = renderEmail(base);
    assert.match(html, /Hello Jane,<br>\n<br>\nplease restart it\./);
  });

  it('links URLs in text, leaving trailing punctuation outside the link', () => {
    assert.equal(
      textToHtml('See https://a.example/x?q=1&r=2. Or (www.b.example).'),
      'See <a href="https://a.example/x?q=1&amp;r=2" style="color:#2563eb;text-decoration:underline;">https://a.example/x?q=1&amp;r=2</a>. ' +
        'Or (<a href="http://www.b.example/" style="color:#2563eb;text-decoration:underline;">www.b.example</a>).',
    );
    assert.match(
      textToHtml('https://en.wikipedia.org/wiki/Foo_(bar)'),
      /href="https:\/\/en.wikipedia.org\/wiki\/Foo_\(bar\)"/,
    );
    assert.equal(textToHtml('javascript:alert(1)'), 'javascript:alert(1)');
  });

  it('escapes a <script> in every field', () => {
    const { html, text } = renderEmail({
      kind: 'reply',
      branding: { name: SCRIPT, footer: SCRIPT, accentColor: `red;}</style>${SCRIPT}` },
      ticket: { number: 5, subject: SCRIPT, url: `javascript:${SCRIPT}` },
      bodyText: `${SCRIPT} https://x.example/"><script>alert(2)</script>`,
      quote: { from: `${SCRIPT} <a@b.example>`, date: new Date('2026-03-02T10:14:00Z'), text: SCRIPT },
    });
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /javascript:/i);
    assert.ok(html.split('&lt;script&gt;alert(1)&lt;/script&gt;').length - 1 >= 6, 'each field shows escaped');
    // The plain-text alternative is text: it shows the characters as they are.
    assert.ok(text.includes(SCRIPT));
  });

  it('falls back to the default accent for anything but a hex colour', () => {
    for (const accentColor of ['red', '#12345', 'rgb(1,2,3)', '#fff;background:url(x)', ''])
      assert.match(
        renderEmail({ ...base, branding: { name: 'A', accentColor } }).html,
        /border-top:4px solid #2563eb/,
        accentColor,
      );
    assert.match(renderEmail({ ...base, branding: { name: 'A', accentColor: '#ABC' } }).html, /solid #ABC/);
  });

  it('drops a ticket url that is not http(s)', () => {
    for (const url of ['javascript:alert(1)', 'data:text/html,x', 'not a url', '//help.acme.example'])
      assert.doesNotMatch(renderEmail({ ...base, ticket: { ...base.ticket, url } }).html, /View your request/, url);
  });

  it('inserts already-sanitised HTML as it is, and derives the text from it', () => {
    const { html, text } = renderEmail({ ...base, bodyText: undefined, bodyHtml: '<p><b>Bold</b> move</p>' });
    assert.match(html, /<p><b>Bold<\/b> move<\/p>/);
    assert.match(text, /^Bold move\n/);
  });

  it('quotes the earlier message in both parts', () => {
    const { html, text } = renderEmail({
      ...base,
      quote: {
        from: 'Jane <jane@customer.example>',
        date: new Date('2026-03-02T10:14:00Z'),
        text: 'It is on fire.\nHelp!',
      },
    });
    assert.match(html, /On 2 Mar 2026, 10:14 UTC, Jane &lt;jane@customer.example&gt; wrote:/);
    assert.match(html, /<blockquote[^>]*>It is on fire\.<br>\nHelp!<\/blockquote>/);
    assert.match(text, /On 2 Mar 2026, 10:14 UTC, Jane <jane@customer.example> wrote:\n> It is on fire\.\n> Help!/);
  });

  it('writes a plain-text alternative with the body, link, signature and footer', () => {
    const { text } = renderEmail(base);
    assert.equal(
      text,
      'Hello Jane,\n\nplease restart it.\n\nView your request [#123]: https://help.acme.example/t/123\n\n' +
        '-- \nAcme Support\n[#123] Printer on fire\nAcme Inc., 1 Main St\n',
    );
  });

  it('an auto-reply uses the default acknowledgement when given no text, and says a reply adds to the request', () => {
    const { html, text } = renderEmail({ ...base, kind: 'auto_reply', bodyText: undefined });
    assert.match(html, /We have received your request/);
    assert.match(html, /You can reply to this email to add to your request\./);
    assert.match(text, /^We have received your request/);
    const configured = renderEmail({ ...base, kind: 'auto_reply', bodyText: 'Thanks, we are on it.' });
    assert.doesNotMatch(configured.html, /We have received your request/);
    assert.match(configured.text, /^Thanks, we are on it\./);
  });

  it('a reply carries no auto-reply wording', () => {
    assert.doesNotMatch(renderEmail(base).html, /We have received|You can reply/);
  });

  it('escapes the five HTML-significant characters', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
