import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { askMarkdown, askTitle, hasQuestion, openLink, parseAskResult, streamedMarkdown, withQuestion } from '../src/askView';

const loc = (path: string, line: number, title = 'function f') => ({
  uri: `file:///ws/${path}`,
  path,
  title,
  range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } },
});

describe('parseAskResult', () => {
  const cases: [string, unknown, boolean][] = [
    ['a result', { question: 'q', answer: 'a', citations: [loc('a.py', 3)], passages: [] }, true],
    ['no answer', { question: 'q', citations: [], passages: [] }, false],
    ['not an object', 'text', false],
    ['null', null, false],
  ];
  for (const [name, input, ok] of cases) {
    it(name, () => assert.equal(parseAskResult(input) !== undefined, ok));
  }
  it('drops malformed locations', () => {
    const r = parseAskResult({ question: 'q', answer: 'a', citations: [{ uri: 3 }, loc('a.py', 1)], passages: [] });
    assert.deepEqual(r?.citations.map((c) => c.path), ['a.py']);
  });
});

describe('askMarkdown', () => {
  it('links the citations to vscode.open at their line', () => {
    const md = askMarkdown({ question: 'Where?', answer: 'In a.py.', citations: [loc('pkg/a.py', 9)], passages: [loc('b.md', 0)] });
    assert.match(md, /^\*\*Where\?\*\*\n\nIn a\.py\.\n\n\*\*Cited\*\*/);
    assert.match(md, /- \[pkg\/a\.py:10\]\(command:vscode\.open\?/);
    assert.doesNotMatch(md, /b\.md/);
  });
  it('lists the passages when nothing is cited', () => {
    const md = askMarkdown({ question: 'q', answer: 'a', citations: [], passages: [loc('b.md', 0, 'b.md: Install')] });
    assert.match(md, /\*\*Passages searched\*\*/);
    assert.match(md, /\[b\.md:1\]/);
  });
  it('has no sources section for an empty workspace', () => {
    assert.equal(askMarkdown({ question: 'q', answer: 'Nothing to search', citations: [], passages: [] }), '**q**\n\nNothing to search');
  });
  it('escapes markup in titles and questions', () => {
    assert.match(askMarkdown({ question: '<b>', answer: 'a', citations: [loc('a.py', 0, '[x](y)')], passages: [] }), /\\\[x\\\]\(y\)/);
  });
});

describe('streamedMarkdown', () => {
  const cases: [string, unknown, string | undefined][] = [
    ['text so far', { question: 'why?', text: 'Because' }, '**why?**\n\nBecause …'],
    ['empty text', { question: 'why?', text: '' }, undefined],
    ['no question', { text: 'x' }, undefined],
    ['junk', 42, undefined],
  ];
  for (const [name, params, expected] of cases) {
    it(name, () => assert.equal(streamedMarkdown(params)?.markdown, expected));
  }
});

describe('openLink', () => {
  it('encodes the uri and the selection', () => {
    const link = openLink(loc('a b.py', 4));
    const args: unknown = JSON.parse(decodeURIComponent(link.replace('command:vscode.open?', '')));
    assert.deepEqual(args, ['file:///ws/a b.py', { selection: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }, preview: true }]);
  });
});

describe('question arguments', () => {
  const sel = { uri: 'file:///ws/a.py', range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } } };
  const cases: [string, unknown[] | undefined, boolean][] = [
    ['code action: no question', [sel], false],
    ['blank question', [{ question: '  ' }], false],
    ['our command', [{ question: 'why?' }], true],
    ['no arguments', undefined, false],
  ];
  for (const [name, args, expected] of cases) {
    it(name, () => assert.equal(hasQuestion(args), expected));
  }
  it('adds the question to the selection', () => assert.deepEqual(withQuestion([sel], 'why?'), [{ ...sel, question: 'why?' }]));
  it('title', () => assert.equal(askTitle('  where   is it? '), 'Ask: where is it?'));
});
