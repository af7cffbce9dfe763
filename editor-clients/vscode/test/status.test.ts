import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatus, statusBarView } from '../src/status';

describe('parseStatus', () => {
  const cases: [string, unknown, ReturnType<typeof parseStatus>][] = [
    ['ready', { state: 'ready', model: '/m/q.gguf', message: '' }, { state: 'ready', model: '/m/q.gguf', message: '' }],
    ['null model, missing message', { state: 'loading', model: null }, { state: 'loading', model: null, message: '' }],
    ['unknown state', { state: 'sleeping' }, undefined],
    ['not an object', 'ready', undefined],
    ['null', null, undefined],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(parseStatus(input), expected));
  }
});

describe('statusBarView', () => {
  const cases: [string, Parameters<typeof statusBarView>[0], ReturnType<typeof statusBarView>][] = [
    ['starting', undefined, { text: '$(loading~spin) LLM', tooltip: 'Local LLM: starting the server', error: false }],
    [
      'loading shows the file name',
      { state: 'loading', model: '/models/qwen.gguf', message: '' },
      { text: '$(loading~spin) LLM', tooltip: 'Local LLM: loading qwen.gguf', error: false },
    ],
    [
      'ready',
      { state: 'ready', model: 'C:\\m\\qwen.gguf', message: 'warm' },
      { text: '$(sparkle) LLM', tooltip: 'Local LLM: ready (qwen.gguf)\nwarm', error: false },
    ],
    [
      'error is red and says where to look',
      { state: 'error', model: null, message: 'file not found' },
      { text: '$(error) LLM', tooltip: 'Local LLM: error\nfile not found\nClick to show the log.', error: true },
    ],
    ['disabled', { state: 'disabled', model: null, message: '' }, { text: '$(circle-slash) LLM', tooltip: 'Local LLM: disabled', error: false }],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(statusBarView(input), expected));
  }
});
