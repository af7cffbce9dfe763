import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, explanationHtml, explanationTitle } from '../src/explainView';

describe('escapeHtml', () => {
  it('escapes markup', () => assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;'));
});

describe('explanationHtml', () => {
  it('uses the rendered HTML when there is one', () => {
    const html = explanationHtml('# T', '<h1>T</h1>', 'vscode-resource:', 'Explanation');
    assert.match(html, /<article class="local-llm-explanation">\n<h1>T<\/h1>/);
  });
  it('falls back to the escaped source', () => {
    const html = explanationHtml('a <b> c', undefined, 'vscode-resource:', 'Explanation');
    assert.match(html, /<pre class="source">a &lt;b&gt; c<\/pre>/);
  });
  it('allows no scripts', () => {
    const html = explanationHtml('x', undefined, 'vscode-resource:', 't');
    assert.match(html, /default-src 'none'/);
    assert.doesNotMatch(html, /script-src/);
  });
  it('escapes the title', () => {
    assert.match(explanationHtml('x', undefined, 's', '<t>'), /<title>&lt;t&gt;<\/title>/);
  });
});

describe('explanationTitle', () => {
  const r = (sl: number, el: number, ec: number) => ({ start: { line: sl, character: 0 }, end: { line: el, character: ec } });
  const cases: [string, unknown[] | undefined, string][] = [
    ['no arguments', undefined, 'Explanation'],
    ['lines 1-2', [{ uri: 'file:///p/sample.py', range: r(0, 1, 12) }], 'Explanation: sample.py:1-2'],
    ['selection ending at the start of line 3', [{ uri: 'file:///p/sample.py', range: r(0, 2, 0) }], 'Explanation: sample.py:1-2'],
    ['one line', [{ uri: 'file:///p/a%20b.py', range: r(4, 4, 9) }], 'Explanation: a b.py:5'],
    ['malformed', [{ uri: 3 }], 'Explanation'],
  ];
  for (const [name, args, expected] of cases) {
    it(name, () => assert.equal(explanationTitle(args), expected));
  }
});
