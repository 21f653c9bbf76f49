import assert from 'node:assert/strict';
import { setAttrs } from '../../webview/shared/dom.ts';
import { safeLinkHref } from '../../webview/shared/markdown/links.ts';
import { MAX_MARKDOWN_CHARS, renderMarkdown } from '../../webview/shared/markdown/render.ts';
import { RecordingDom, serialise, textOf } from '../support/webview-fake-dom.ts';

function md(source: string) {
  const dom = new RecordingDom();
  const root = renderMarkdown(source, dom);
  // Drop the wrapper <div> for readability.
  return { html: root.children.map(serialise).join(''), text: textOf(root), dom };
}

describe('markdown subset', () => {
  it('renders paragraphs with line breaks, emphasis, code, headings, lists, quotes and fences', () => {
    assert.equal(md('Hello **bold** and *em* and `code` ~~gone~~\nnext line').html, '<p>Hello <strong>bold</strong> and <em>em</em> and <code>code</code> <del>gone</del><br></br>next line</p>');
    assert.equal(md('# Title\n## Sub').html, '<h1>Title</h1><h2>Sub</h2>');
    assert.equal(md('- one\n- two\n  - nested').html, '<ul><li>one</li><li><p>two</p><ul><li>nested</li></ul></li></ul>');
    assert.equal(md('3. three\n4. four').html, '<ol start=3><li>three</li><li>four</li></ol>');
    assert.equal(md('> quoted\n> more').html, '<blockquote><p>quoted<br></br>more</p></blockquote>');
    assert.equal(md('```ts\nconst a = 1 < 2;\n```\nafter').html, '<pre><code>const a = 1 < 2;</code></pre><p>after</p>');
    assert.equal(md('snake_case_name and 2 * 3 * 4').html, '<p>snake_case_name and 2 * 3 * 4</p>');
    assert.equal(md('---').html, '<hr></hr>');
  });

  it('keeps a streaming, unclosed code fence as code', () => {
    assert.equal(md('Run:\n```sh\nnpm test\n').html, '<p>Run:</p><pre><code>npm test</code></pre>');
  });

  it('makes links only for absolute http, https and mailto URLs', () => {
    const r = md('[docs](https://example.com/a?b=1) <https://x.dev> see https://y.dev/p. and [mail](mailto:a@b.c)');
    assert.deepEqual(r.dom.links, ['https://example.com/a?b=1', 'https://x.dev/', 'https://y.dev/p', 'mailto:a@b.c']);
    assert.match(r.html, /<a href=https:\/\/y\.dev\/p>https:\/\/y\.dev\/p<\/a>\. and/);
  });
});

describe('markdown safety: model text is never markup', () => {
  const hostile = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">click</a>',
    '<div onclick="alert(1)" style="position:fixed">x</div>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<svg onload=alert(1)>',
  ];

  it('renders HTML tags as their literal text, creating no element for them', () => {
    for (const source of hostile) {
      const r = md(source);
      assert.equal(r.text, source, source);
      assert.deepEqual(r.dom.tags, ['div', 'p'], `only the wrapper and a paragraph for ${source}`);
      assert.deepEqual(r.dom.links, []);
    }
  });

  it('keeps HTML entities as typed: nothing decodes them into markup', () => {
    const r = md('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#60;b&#62;');
    assert.equal(r.text, '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#60;b&#62;');
    assert.deepEqual(r.dom.tags, ['div', 'p']);
  });

  it('drops dangerous link targets but keeps the label as text', () => {
    for (const target of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', ' javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:msgbox', 'command:workbench.action.quit', 'file:///etc/passwd', '/relative', '#top']) {
      const r = md(`[click me](${target})`);
      assert.deepEqual(r.dom.links, [], target);
      assert.equal(r.text, 'click me', target);
    }
  });

  it('shows an image as its alt text and never loads it', () => {
    const r = md('![a cat](https://evil.example/track.png)');
    assert.equal(r.html, '<p>a cat</p>');
    assert.deepEqual(r.dom.links, []);
  });

  it('attribute-like text inside a fence or code span stays text', () => {
    const r = md('`<img src=x onerror=alert(1)>`\n\n```html\n<script>alert(1)</script>\n```');
    assert.equal(r.html, '<p><code><img src=x onerror=alert(1)></code></p><pre><code><script>alert(1)</script></code></pre>');
    assert.deepEqual(r.dom.tags, ['div', 'p', 'code', 'pre', 'code']);
  });

  it('survives adversarial input (unmatched delimiters, deep nesting, huge text)', () => {
    const stars = '**a '.repeat(20_000);
    assert.equal(md(stars).text, stars.trim());
    const nested = `${'['.repeat(5_000)}x${']'.repeat(5_000)}`;
    assert.equal(md(nested).text, nested);
    const deepQuote = `${'> '.repeat(50)}deep`;
    assert.match(md(deepQuote).text, /deep$/);
    const huge = `<b>${'y'.repeat(MAX_MARKDOWN_CHARS)}</b>`;
    const r = md(huge);
    assert.equal(r.text, huge);
    assert.deepEqual(r.dom.tags, ['div', 'p']);
  });

  it('safeLinkHref normalises allowed URLs and refuses the rest', () => {
    assert.equal(safeLinkHref(' https://example.com '), 'https://example.com/');
    assert.equal(safeLinkHref('HTTP://EXAMPLE.com/x'), 'http://example.com/x');
    assert.equal(safeLinkHref('javascript:alert(1)'), undefined);
    assert.equal(safeLinkHref('not a url'), undefined);
  });
});

describe('view DOM helper', () => {
  it('refuses event handlers, inline styles and URL attributes from view code', () => {
    const set: string[] = [];
    const el = { setAttribute: (n: string) => set.push(n) } as unknown as Element;
    for (const name of ['onclick', 'ONERROR', 'style', 'href', 'src', 'srcdoc', 'formaction', 'xlink:href']) {
      assert.throws(() => setAttrs(el, { [name]: 'x' }), /Refusing/, name);
    }
    setAttrs(el, { 'aria-label': 'ok', title: 'ok', 'data-action': 'start' });
    assert.deepEqual(set, ['aria-label', 'title', 'data-action']);
  });
});
