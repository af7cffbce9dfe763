/**
 * Settings -> server: turns the user's `localLlm.*` settings into the server command and the
 * `initializationOptions` / `workspace/didChangeConfiguration` payload of docs/PROTOCOL.md.
 * Pure: no `vscode` import, so it is unit tested in plain Node. Invalid values fall back to
 * the default (the server would warn about them anyway).
 */

/** The `localLlm.*` settings as VS Code hands them over (anything may be malformed). */
export interface RawSettings {
  serverCommand?: unknown;
  modelPath?: unknown;
  model?: unknown;
  latencyTargetMs?: unknown;
  maxTokens?: unknown;
  disabledLanguages?: unknown;
  followTyping?: unknown;
  partialAfterMs?: unknown;
}

/** What the server accepts (docs/PROTOCOL.md "Settings"); every key optional. */
export interface InitializationOptions {
  modelPath?: string;
  model?: 'default' | 'small';
  latencyTargetMs?: number;
  maxTokens?: number;
  disabledLanguages?: string[];
  followTyping?: boolean;
  partialAfterMs?: number;
  clientShowsExplanations: boolean;
}

export interface ServerCommand {
  command: string;
  args: string[];
}

/** Values used to expand `~` and `${workspaceFolder}` in paths. */
export interface PathContext {
  home: string;
  workspaceFolder?: string;
}

export const DEFAULT_SERVER_COMMAND: readonly string[] = ['local-llm-lsp'];

/** Expands a leading `~` and every `${workspaceFolder}` / `${userHome}`. */
export function expandPath(value: string, ctx: PathContext): string {
  let out = value;
  if (out === '~' || out.startsWith('~/')) {
    out = ctx.home + out.slice(1);
  }
  out = out.split('${userHome}').join(ctx.home);
  if (ctx.workspaceFolder !== undefined) {
    out = out.split('${workspaceFolder}').join(ctx.workspaceFolder);
  }
  return out;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function nonNegativeInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** `localLlm.serverCommand` (an argv array) -> executable and arguments. */
export function toServerCommand(raw: RawSettings, ctx: PathContext): ServerCommand {
  const argv =
    isStringArray(raw.serverCommand) && raw.serverCommand.length > 0 && raw.serverCommand[0].trim() !== ''
      ? raw.serverCommand
      : DEFAULT_SERVER_COMMAND;
  const [command, ...args] = argv.map((part) => expandPath(part, ctx));
  return { command, args };
}

/** `localLlm.*` settings -> the server's initializationOptions (camelCase, as on the wire). */
export function toInitializationOptions(raw: RawSettings, ctx: PathContext): InitializationOptions {
  const out: InitializationOptions = { clientShowsExplanations: true };
  if (typeof raw.modelPath === 'string' && raw.modelPath.trim() !== '') {
    out.modelPath = expandPath(raw.modelPath.trim(), ctx);
  }
  if (raw.model === 'default' || raw.model === 'small') {
    out.model = raw.model;
  }
  const latency = positiveInt(raw.latencyTargetMs);
  if (latency !== undefined) {
    out.latencyTargetMs = latency;
  }
  const maxTokens = positiveInt(raw.maxTokens);
  if (maxTokens !== undefined) {
    out.maxTokens = maxTokens;
  }
  if (isStringArray(raw.disabledLanguages)) {
    out.disabledLanguages = [...new Set(raw.disabledLanguages.map((l) => l.trim()).filter((l) => l !== ''))];
  }
  if (typeof raw.followTyping === 'boolean') {
    out.followTyping = raw.followTyping;
  }
  const partial = nonNegativeInt(raw.partialAfterMs);
  if (partial !== undefined) {
    out.partialAfterMs = partial;
  }
  return out;
}

/** Whether a settings change needs a new server process (the command is fixed at spawn). */
export function needsRestart(changed: (section: string) => boolean): boolean {
  return changed('localLlm.serverCommand');
}
