/**
 * Model state -> status bar: the `localLlm/status` notification's payload and how the status bar
 * item shows it. Pure: no `vscode` import.
 */

export type ModelState = 'loading' | 'ready' | 'error' | 'disabled';

export interface ModelStatus {
  state: ModelState;
  model: string | null;
  message: string;
}

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** Show with the error background. */
  error: boolean;
}

const STATES: readonly string[] = ['loading', 'ready', 'error', 'disabled'];

/** Validates a `localLlm/status` payload; undefined when it is not one. */
export function parseStatus(payload: unknown): ModelStatus | undefined {
  if (typeof payload !== 'object' || payload === null) {
    return undefined;
  }
  const p = payload as Record<string, unknown>;
  if (typeof p.state !== 'string' || !STATES.includes(p.state)) {
    return undefined;
  }
  return {
    state: p.state as ModelState,
    model: typeof p.model === 'string' ? p.model : null,
    message: typeof p.message === 'string' ? p.message : '',
  };
}

function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** The status bar item's look for a state; `undefined` is "server starting". */
export function statusBarView(status: ModelStatus | undefined): StatusBarView {
  if (status === undefined) {
    return { text: '$(loading~spin) LLM', tooltip: 'Local LLM: starting the server', error: false };
  }
  const model = status.model ? basename(status.model) : 'no model';
  const detail = status.message ? `\n${status.message}` : '';
  switch (status.state) {
    case 'loading':
      return { text: '$(loading~spin) LLM', tooltip: `Local LLM: loading ${model}${detail}`, error: false };
    case 'ready':
      return { text: '$(sparkle) LLM', tooltip: `Local LLM: ready (${model})${detail}`, error: false };
    case 'error':
      return { text: '$(error) LLM', tooltip: `Local LLM: error${detail}\nClick to show the log.`, error: true };
    case 'disabled':
      return { text: '$(circle-slash) LLM', tooltip: `Local LLM: disabled${detail}`, error: false };
  }
}
