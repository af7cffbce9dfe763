import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandPath, needsRestart, toInitializationOptions, toServerCommand } from '../src/config';

const ctx = { home: '/home/u', workspaceFolder: '/work/proj' };

describe('toInitializationOptions', () => {
  const cases: [string, Parameters<typeof toInitializationOptions>[0], ReturnType<typeof toInitializationOptions>][] = [
    ['nothing set: only the client flag', {}, { clientShowsExplanations: true }],
    [
      'all settings, as on the wire',
      { modelPath: '/m/q.gguf', model: 'small', latencyTargetMs: 800, maxTokens: 64, disabledLanguages: ['c', 'go'] },
      { modelPath: '/m/q.gguf', model: 'small', latencyTargetMs: 800, maxTokens: 64, disabledLanguages: ['c', 'go'], clientShowsExplanations: true },
    ],
    ['empty modelPath means the bundled model', { modelPath: '  ' }, { clientShowsExplanations: true }],
    ['~ in modelPath', { modelPath: '~/models/a.gguf' }, { modelPath: '/home/u/models/a.gguf', clientShowsExplanations: true }],
    ['${workspaceFolder} in modelPath', { modelPath: '${workspaceFolder}/a.gguf' }, { modelPath: '/work/proj/a.gguf', clientShowsExplanations: true }],
    ['unknown model name dropped', { model: 'huge' }, { clientShowsExplanations: true }],
    ['non-integer numbers dropped', { latencyTargetMs: 12.5, maxTokens: '64' }, { clientShowsExplanations: true }],
    ['zero and negative numbers dropped', { latencyTargetMs: 0, maxTokens: -1 }, { clientShowsExplanations: true }],
    ['disabledLanguages trimmed and deduplicated', { disabledLanguages: [' c', 'c', '', 'go'] }, { disabledLanguages: ['c', 'go'], clientShowsExplanations: true }],
    ['followTyping, as on the wire', { followTyping: false }, { followTyping: false, clientShowsExplanations: true }],
    ['followTyping not a boolean: dropped', { followTyping: 'no' }, { clientShowsExplanations: true }],
    ['partialAfterMs, 0 (off) included', { partialAfterMs: 0 }, { partialAfterMs: 0, clientShowsExplanations: true }],
    ['partialAfterMs negative or not an integer: dropped', { partialAfterMs: -5 }, { clientShowsExplanations: true }],
    ['partialAfterMs as a string: dropped', { partialAfterMs: '500' }, { clientShowsExplanations: true }],
    ['disabledLanguages of the wrong type dropped', { disabledLanguages: 'c' }, { clientShowsExplanations: true }],
    ['empty disabledLanguages kept (re-enables all)', { disabledLanguages: [] }, { disabledLanguages: [], clientShowsExplanations: true }],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(toInitializationOptions(input, ctx), expected));
  }
  it('never sends serverCommand to the server', () => {
    assert.equal('serverCommand' in toInitializationOptions({ serverCommand: ['x'] }, ctx), false);
  });
});

describe('toServerCommand', () => {
  const cases: [string, unknown, { command: string; args: string[] }][] = [
    ['default', undefined, { command: 'local-llm-lsp', args: [] }],
    ['argv array', ['/venv/bin/python', '-m', 'lsp_server'], { command: '/venv/bin/python', args: ['-m', 'lsp_server'] }],
    ['~ expanded in every part', ['~/bin/local-llm-lsp', '--log-file', '~/l.log'], { command: '/home/u/bin/local-llm-lsp', args: ['--log-file', '/home/u/l.log'] }],
    ['empty array: default', [], { command: 'local-llm-lsp', args: [] }],
    ['blank executable: default', [' '], { command: 'local-llm-lsp', args: [] }],
    ['a string instead of an array: default', 'local-llm-lsp --tcp 1', { command: 'local-llm-lsp', args: [] }],
    ['non-string parts: default', ['a', 1], { command: 'local-llm-lsp', args: [] }],
  ];
  for (const [name, serverCommand, expected] of cases) {
    it(name, () => assert.deepEqual(toServerCommand({ serverCommand }, ctx), expected));
  }
});

describe('expandPath', () => {
  const cases: [string, string][] = [
    ['~', '/home/u'],
    ['~/a', '/home/u/a'],
    ['a~/b', 'a~/b'],
    ['${userHome}/x', '/home/u/x'],
    ['${workspaceFolder}/${workspaceFolder}', '/work/proj//work/proj'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} -> ${expected}`, () => assert.equal(expandPath(input, ctx), expected));
  }
  it('keeps ${workspaceFolder} when there is no folder', () => {
    assert.equal(expandPath('${workspaceFolder}/a', { home: '/h' }), '${workspaceFolder}/a');
  });
});

describe('needsRestart', () => {
  it('only for the server command', () => {
    assert.equal(needsRestart((s) => s === 'localLlm.serverCommand'), true);
    assert.equal(needsRestart((s) => s === 'localLlm.modelPath'), false);
  });
});
