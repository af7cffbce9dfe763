import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkedValue,
  expandPath,
  needsRestart,
  SERVER_SETTINGS,
  SETTING_KEYS,
  serverSettings,
  toInitializationOptions,
  toServerCommand,
} from '../src/config';

const ctx = { home: '/home/u', workspaceFolder: '/work/proj' };

describe('toInitializationOptions', () => {
  const cases: [string, Parameters<typeof toInitializationOptions>[0], ReturnType<typeof toInitializationOptions>][] = [
    ['nothing set: only the client flag', {}, { clientShowsExplanations: true }],
    [
      'all settings, as on the wire',
      { modelPath: '/m/q.gguf', model: 'small', latencyTargetMs: 800, maxTokens: 64, disabledLanguages: ['c', 'go'] },
      { modelPath: '/m/q.gguf', model: 'small', latencyTargetMs: 800, maxTokens: 64, disabledLanguages: ['c', 'go'], clientShowsExplanations: true },
    ],
    // Sent, not left out: after a didChangeConfiguration the server would keep an earlier path.
    ['blank modelPath is sent empty: the bundled model', { modelPath: '  ' }, { modelPath: '', clientShowsExplanations: true }],
    ['~ in modelPath', { modelPath: '~/models/a.gguf' }, { modelPath: '/home/u/models/a.gguf', clientShowsExplanations: true }],
    ['${workspaceFolder} in modelPath', { modelPath: '${workspaceFolder}/a.gguf' }, { modelPath: '/work/proj/a.gguf', clientShowsExplanations: true }],
    ['unknown model name dropped', { model: 'huge' }, { clientShowsExplanations: true }],
    ['non-integer numbers dropped', { latencyTargetMs: 12.5, maxTokens: '64' }, { clientShowsExplanations: true }],
    ['zero and negative numbers below the minimum dropped', { maxTokens: 0, latencyTargetMs: -1 }, { clientShowsExplanations: true }],
    ['numbers above the maximum dropped', { maxTokens: 4097, threads: 257 }, { clientShowsExplanations: true }],
    ['latencyTargetMs 0 (off) included', { latencyTargetMs: 0 }, { latencyTargetMs: 0, clientShowsExplanations: true }],
    ['settings VS Code once left out are sent too', { contextSize: 8192, publishSyntaxErrors: true, fimTemplate: 'qwen2.5-coder' },
      { contextSize: 8192, publishSyntaxErrors: true, fimTemplate: 'qwen2.5-coder', clientShowsExplanations: true }],
    ['unknown keys are not sent', { typo: 1, clientShowsExplanations: false }, { clientShowsExplanations: true }],
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
  it('passes every server setting of package.json through, at its default', () => {
    const defaults = Object.fromEntries(Object.entries(SERVER_SETTINGS).map(([key, schema]) => [key, (schema as { default: unknown }).default]));
    assert.deepEqual(toInitializationOptions(defaults, ctx), { ...defaults, clientShowsExplanations: true });
    // the server's settings table (docs/PROTOCOL.md) minus the one the extension sets itself
    assert.deepEqual(Object.keys(SERVER_SETTINGS).sort(), [
      'backend', 'backendApiKeyEnv', 'backendApiKeyFile', 'backendCaBundle', 'backendModel', 'backendTimeoutMs', 'backendUrl',
      'contextSize', 'contextTokens', 'crossFileContext', 'crossFileContextLanguages', 'disabledLanguages', 'fimTemplate', 'followTyping', 'indexMaxFileBytes', 'indexMaxFiles',
      'language', 'latencyTargetMs', 'maxTokens', 'model', 'modelPath', 'partialAfterMs', 'precomputeNext', 'prefill', 'prefixTokens', 'promptsDir',
      'publishSyntaxErrors', 'reuseShiftedCache', 'suffixTokens', 'threads', 'waitForModelMs', 'workspaceIndex',
    ]);
  });
});

describe('serverSettings', () => {
  it("package.json's localLlm.* properties but the extension's own, without the prefix", () => {
    const properties = {
      'localLlm.serverCommand': { type: 'array' },
      'localLlm.maxTokens': { type: 'integer' },
      'localLlm.trace.server': { type: 'string' },
      'other.key': { type: 'string' },
    };
    assert.deepEqual(serverSettings(properties), { maxTokens: { type: 'integer' } });
  });
  it('reads serverCommand and every server setting', () => {
    assert.deepEqual(SETTING_KEYS, ['serverCommand', ...Object.keys(SERVER_SETTINGS)]);
  });
});

describe('checkedValue', () => {
  const cases: [string, unknown, Parameters<typeof checkedValue>[1], unknown][] = [
    ['string trimmed', ' a ', { type: 'string' }, 'a'],
    ['~ expanded in a string', '~/p', { type: 'string' }, '/home/u/p'],
    ['string not in the enum', 'c', { type: 'string', enum: ['a', 'b'] }, undefined],
    ['string in the enum', 'b', { type: 'string', enum: ['a', 'b'] }, 'b'],
    ['number for a string', 1, { type: 'string' }, undefined],
    ['integer in range', 5, { type: 'integer', minimum: 5, maximum: 5 }, 5],
    ['integer below the minimum', 4, { type: 'integer', minimum: 5 }, undefined],
    ['integer above the maximum', 6, { type: 'integer', maximum: 5 }, undefined],
    ['fraction for an integer', 1.5, { type: 'integer' }, undefined],
    ['boolean for an integer', true, { type: 'integer' }, undefined],
    ['boolean', false, { type: 'boolean' }, false],
    ['string for a boolean', 'true', { type: 'boolean' }, undefined],
    ['list of strings', [' a', 'a', '', 'b'], { type: 'array', items: { type: 'string' } }, ['a', 'b']],
    ['list with a number', ['a', 1], { type: 'array', items: { type: 'string' } }, undefined],
    ['unknown type', 'x', { type: 'object' }, undefined],
  ];
  for (const [name, value, schema, expected] of cases) {
    it(name, () => assert.deepEqual(checkedValue(value, schema, ctx), expected));
  }
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
