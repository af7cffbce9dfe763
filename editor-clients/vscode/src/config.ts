/**
 * Settings -> server: turns the user's `localLlm.*` settings into the server command and the
 * `initializationOptions` / `workspace/didChangeConfiguration` payload of docs/PROTOCOL.md.
 * The server's settings are the ones package.json declares (generated from the server's
 * `Settings` class by `python -m lsp_server.lsp.settings_docs`): each is passed through, checked
 * against its schema there. Pure: no `vscode` import, so it is unit tested in plain Node.
 * Invalid values are left out (the server would warn about them anyway).
 */

import packageJson from '../package.json';

/** A setting's schema in package.json, as far as it is checked here. */
export interface SettingSchema {
  type?: string;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  items?: { type?: string };
}

/** The `localLlm.*` settings as VS Code hands them over, by key without the prefix (anything may be malformed). */
export type RawSettings = Record<string, unknown>;

/** What the server accepts (docs/PROTOCOL.md "Settings"); every key optional. */
export type InitializationOptions = Record<string, unknown> & { clientShowsExplanations: boolean };

const PREFIX = 'localLlm.';

/** The extension's own settings (lsp_server/lsp/settings_docs.py has the same list); every other
 *  `localLlm.*` setting in package.json is the server's. */
export const EXTENSION_SETTINGS: readonly string[] = ['serverCommand', 'trace.server'];

/** The server's settings in package.json's `contributes.configuration.properties`, by key. */
export function serverSettings(properties: Record<string, SettingSchema>): Record<string, SettingSchema> {
  return Object.fromEntries(
    Object.entries(properties)
      .filter(([key]) => key.startsWith(PREFIX) && !EXTENSION_SETTINGS.includes(key.slice(PREFIX.length)))
      .map(([key, schema]) => [key.slice(PREFIX.length), schema]),
  );
}

export const SERVER_SETTINGS: Readonly<Record<string, SettingSchema>> = serverSettings(
  packageJson.contributes.configuration.properties,
);

/** The settings `toServerCommand` and `toInitializationOptions` read. */
export const SETTING_KEYS: readonly string[] = ['serverCommand', ...Object.keys(SERVER_SETTINGS)];

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

/** A value checked against its schema: what to send, or undefined to leave it out. Strings are
 *  trimmed and path-expanded, lists of strings trimmed and deduplicated. */
export function checkedValue(value: unknown, schema: SettingSchema, ctx: PathContext): unknown {
  switch (schema.type) {
    case 'string': {
      if (typeof value !== 'string') {
        return undefined;
      }
      const text = expandPath(value.trim(), ctx);
      return schema.enum === undefined || schema.enum.includes(text) ? text : undefined;
    }
    case 'integer':
      return typeof value === 'number' &&
        Number.isInteger(value) &&
        (schema.minimum === undefined || value >= schema.minimum) &&
        (schema.maximum === undefined || value <= schema.maximum)
        ? value
        : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'array':
      return schema.items?.type === 'string' && isStringArray(value)
        ? [...new Set(value.map((v) => v.trim()).filter((v) => v !== ''))]
        : undefined;
    default:
      return undefined;
  }
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
export function toInitializationOptions(
  raw: RawSettings,
  ctx: PathContext,
  settings: Readonly<Record<string, SettingSchema>> = SERVER_SETTINGS,
): InitializationOptions {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(settings)) {
    const value = checkedValue(raw[key], schema, ctx);
    if (value !== undefined) {
      out[key] = value;
    }
  }
  // VS Code shows explanations in its own view (explainView.ts).
  return { ...out, clientShowsExplanations: true };
}

/** Whether a settings change needs a new server process (the command is fixed at spawn). */
export function needsRestart(changed: (section: string) => boolean): boolean {
  return changed('localLlm.serverCommand');
}
