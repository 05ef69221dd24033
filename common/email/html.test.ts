import assert from 'node:assert/strict';
import { htmlToPlainText, sanitizeEmailHtml } from './html.ts';

const clean = sanitizeEmailHtml;

describe('email HTML', () => {
  describe('sanitising', () => {
    it('keeps formatting, lists, tables and quotes', async () => {
      const html =
        '<p><b>Bold</b> <i>it</i> <u>u</u> <s>s</s></p><ul><li>one</li></ul><ol start="3"><li>three</li></ol>' +
        '<blockquote>quoted</blockquote><table width="600" cellpadding="4"><tr><td colspan="2">cell</td></tr></table>' +
        '<pre>code</pre><h2>Title</h2><hr><br>';
      assert.equal(await clean(html), html.replace('<hr>', '<hr />').replace('<br>', '<br />'));
    });

    it('drops scripts, styles, head and title with their content', async () => {
      const out = await clean(
        '<html><head><title>Secret title</title><style>p{color:red}</style><script>alert(1)</script></head>' +
          '<body><p>Hi</p><script>steal()</script><noscript>ns</noscript><template><p>t</p></template></body></html>',
      );
      assert.equal(out, '<p>Hi</p>');
    });

    it('drops iframes, objects, embeds, forms and their controls', async () => {
      const out = await clean(
        '<iframe src="https://evil.example">x</iframe><object data="x.swf">o</object><embed src="x.swf">' +
          '<form action="https://evil.example"><input name="password"><textarea>t</textarea><select><option>o</option></select></form>' +
          '<svg><script>alert(1)</script></svg><math><mi>x</mi></math><video src="v.mp4"></video>',
      );
      assert.doesNotMatch(out, /<(iframe|object|embed|form|input|textarea|select|option|svg|math|video|script)/i);
      assert.doesNotMatch(out, /evil|password|alert/);
    });

    it('drops event handlers, ids and classes', async () => {
      const out = await clean('<p onclick="x()" onmouseover="y()" id="login" class="btn btn-primary" title="t">Hi</p>');
      assert.equal(out, '<p title="t">Hi</p>');
      assert.equal(await clean('<img src="cid:a@b" onerror="alert(1)">'), '<img src="cid:a@b" />');
    });

    it('gives links rel="noopener noreferrer nofollow" and a new tab, replacing the sender’s rel', async () => {
      assert.equal(
        await clean('<a href="https://example.com/x?a=1&amp;b=2" rel="opener" target="_self">x</a>'),
        '<a href="https://example.com/x?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">x</a>',
      );
    });

    it('allows only http, https and mailto links', async () => {
      assert.match(await clean('<a href="mailto:jane@example.com">m</a>'), /href="mailto:jane@example.com"/);
      assert.match(await clean('<a href="http://example.com">h</a>'), /href="http:\/\/example.com"/);
      for (const href of [
        'javascript:alert(1)',
        'JaVaScRiPt:alert(1)',
        ' javascript:alert(1)',
        'java&#x09;script:alert(1)',
        'data:text/html,<script>alert(1)</script>',
        'vbscript:x',
        'file:///etc/passwd',
        '//evil.example/path',
      ])
        assert.doesNotMatch(await clean(`<a href="${href}">x</a>`), /href/, href);
    });

    it('keeps cid: images and drops remote and data: images (tracking pixels)', async () => {
      assert.equal(
        await clean('<img src="cid:logo@acme" alt="Logo" width="100">'),
        '<img src="cid:logo@acme" alt="Logo" width="100" />',
      );
      assert.equal(await clean('<img src="https://tracker.example/pixel.gif?u=jane" width="1" height="1">'), '');
      assert.equal(await clean('<img src="http://tracker.example/p.gif">'), '');
      assert.equal(await clean('<img src="//tracker.example/p.gif">'), '');
      assert.equal(await clean('<img src="data:image/png;base64,iVBORw0KGgo=">'), '');
      assert.equal(await clean('<img alt="no source">'), '');
    });

    it('drops the background attribute (a remote image) and CSS that loads or positions things', async () => {
      assert.equal(
        await clean('<table background="https://tracker.example/bg.gif"><tr><td>x</td></tr></table>'),
        '<table><tr><td>x</td></tr></table>',
      );
      assert.equal(
        await clean(
          '<p style="color:#ff0000;background-image:url(https://tracker.example/p.gif);position:fixed;top:0;font-weight:bold">x</p>',
        ),
        '<p style="color:#ff0000;font-weight:bold">x</p>',
      );
      assert.equal(await clean('<p style="color:expression(alert(1))">x</p>'), '<p>x</p>');
      assert.equal(await clean('<p style="font-family:x;behavior:url(x.htc)">x</p>'), '<p style="font-family:x">x</p>');
    });

    it('escapes text that looks like markup', async () => {
      assert.equal(await clean('<p>1 &lt; 2 &amp; &lt;script&gt;</p>'), '<p>1 &lt; 2 &amp; &lt;script&gt;</p>');
    });

    it('drops comments, including Outlook’s conditional ones', async () => {
      assert.equal(await clean('<!--[if mso]><p>mso</p><![endif]--><p>x</p><!-- secret -->'), '<p>x</p>');
    });
  });

  describe('plain text', () => {
    it('renders paragraphs, links and lists readably, without wrapping', () => {
      const long = 'word '.repeat(40).trim();
      const text = htmlToPlainText(
        `<h1>Hello</h1><p>${long}</p><p>See <a href="https://a.example/x">the docs</a> or https://b.example.</p><ul><li>one</li><li>two</li></ul>`,
      );
      assert.equal(
        text,
        `Hello\n\n${long}\n\nSee the docs [https://a.example/x] or https://b.example.\n\n * one\n * two`,
      );
    });

    it('does not repeat a link whose text is its address', () => {
      assert.equal(htmlToPlainText('<a href="https://b.example/">https://b.example/</a>'), 'https://b.example/');
    });

    it('turns blockquotes into > lines, which splitQuoted recognises', () => {
      assert.equal(
        htmlToPlainText('<p>Yes</p><blockquote>Shall we?<br>Regards</blockquote>'),
        'Yes\n\n> Shall we?\n> Regards',
      );
    });

    it('leaves out head, style, script and images', () => {
      assert.equal(
        htmlToPlainText(
          '<html><head><title>T</title><style>p{}</style></head><body><p>B<img src="cid:x" alt="pic"></p><script>s()</script></body></html>',
        ),
        'B',
      );
    });

    it('puts layout-table cells on their own lines', () => {
      assert.equal(htmlToPlainText('<table><tr><td>Name</td><td>Jane</td></tr></table>'), 'Name\nJane');
    });
  });
});
