/**
 * The VS Code side of local-llm-lsp: starts the server through vscode-languageclient (which
 * registers the inline completion provider when the server advertises
 * `inlineCompletionProvider`), maps settings to initializationOptions (config.ts), shows the model
 * state in the status bar (status.ts) and explanations in a webview (explainView.ts), and
 * contributes the commands `localLlm.explainSelection`, `localLlm.askWorkspace` (askView.ts: the
 * answer in the same view, citations as links), `localLlm.restartServer`, `localLlm.showLog`. It holds no completion logic of its own.
 */

import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import {
  needsRestart,
  type PathContext,
  type RawSettings,
  SETTING_KEYS,
  toInitializationOptions,
  toServerCommand,
} from './config';
import { ASK_COMMAND, askMarkdown, askTitle, hasQuestion, parseAskResult, streamedMarkdown, withQuestion } from './askView';
import { explanationHtml, explanationTitle } from './explainView';
import { type ModelStatus, parseStatus, statusBarView } from './status';

export const LANGUAGES = ['python', 'javascript', 'typescript', 'typescriptreact', 'go', 'rust', 'c', 'cpp', 'java'];
const EXPLAIN_COMMAND = 'localLlm.explain';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;
let statusItem: vscode.StatusBarItem;
let explanationPanel: vscode.WebviewPanel | undefined;

function readSettings(): RawSettings {
  const cfg = vscode.workspace.getConfiguration('localLlm');
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, cfg.get(key)]));
}

function pathContext(): PathContext {
  return { home: os.homedir(), workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath };
}

function showStatus(status: ModelStatus | undefined, failed?: string): void {
  const view = failed
    ? { text: '$(error) LLM', tooltip: `Local LLM: the server did not start\n${failed}\nClick to show the log.`, error: true }
    : statusBarView(status);
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  statusItem.show();
}

async function renderMarkdown(markdown: string): Promise<string | undefined> {
  try {
    // The built-in Markdown extension's renderer (the one its preview uses).
    const html = await vscode.commands.executeCommand<string>('markdown.api.render', markdown);
    return typeof html === 'string' ? html : undefined;
  } catch {
    return undefined;
  }
}

async function showExplanation(markdown: string, title: string, links = false): Promise<void> {
  if (!explanationPanel) {
    explanationPanel = vscode.window.createWebviewPanel(
      'localLlm.explanation',
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: false, enableFindWidget: true },
    );
    explanationPanel.onDidDispose(() => (explanationPanel = undefined));
  }
  explanationPanel.title = title;
  const webview = explanationPanel.webview;
  // An answer's citations are `command:vscode.open` links: that command only, and no scripts.
  webview.options = { enableScripts: false, enableCommandUris: links ? ['vscode.open'] : false };
  webview.html = explanationHtml(markdown, await renderMarkdown(markdown), webview.cspSource, title);
  explanationPanel.reveal(vscode.ViewColumn.Beside, true);
}

async function startClient(): Promise<void> {
  const raw = readSettings();
  const ctx = pathContext();
  const { command, args } = toServerCommand(raw, ctx);
  const serverOptions: ServerOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    initializationOptions: toInitializationOptions(raw, ctx),
    outputChannel: output,
    middleware: {
      // VS Code shows inline completions; the server's textDocument/completion item is the
      // fallback for editors without them and would only run the model a second time here.
      provideCompletionItem: () => undefined,
      // "Explain this code" code actions run the server command; show what it returns.
      executeCommand: async (cmd, cmdArgs, next) => {
        if (cmd === ASK_COMMAND) {
          // "Ask about this code…" carries the selection; the question comes from the user.
          const args = hasQuestion(cmdArgs) ? cmdArgs : await askForQuestion(cmdArgs);
          return args ? showAnswer(await next(cmd, args)) : undefined;
        }
        const result: unknown = await next(cmd, cmdArgs);
        if (cmd === EXPLAIN_COMMAND && typeof result === 'string' && result.trim() !== '') {
          await showExplanation(result, explanationTitle(cmdArgs));
        }
        return result;
      },
    },
  };
  const c = new LanguageClient('localLlm', 'Local LLM', serverOptions, clientOptions);
  client = c;
  c.onNotification('localLlm/status', (payload: unknown) => {
    const status = parseStatus(payload);
    if (status) {
      showStatus(status);
    }
  });
  c.onNotification('localLlm/askText', (payload: unknown) => {
    const streamed = streamedMarkdown(payload); // the answer so far, while the model writes it
    if (streamed) {
      void showExplanation(streamed.markdown, askTitle(streamed.question), true);
    }
  });
  showStatus(undefined);
  try {
    await c.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    output.error(`could not start ${[command, ...args].join(' ')}: ${message}`);
    showStatus(undefined, message);
    const choice = await vscode.window.showErrorMessage(
      `Local LLM: could not start the server (${command}). Set "localLlm.serverCommand" or install local-llm-lsp.`,
      'Open Settings',
      'Show Log',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'localLlm');
    } else if (choice === 'Show Log') {
      output.show(true);
    }
  }
}

async function stopClient(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop(5000);
    } catch (err) {
      output.warn(`stop: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

async function explainSelection(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Local LLM: open a file and select the code to explain.');
    return;
  }
  if (!client || !client.isRunning()) {
    void vscode.window.showWarningMessage('Local LLM: the server is not running (see "Local LLM: Show Log").');
    return;
  }
  const c = client;
  const doc = editor.document;
  const range = editor.selection.isEmpty ? doc.lineAt(editor.selection.active.line).range : editor.selection;
  const args = [{ uri: c.code2ProtocolConverter.asUri(doc.uri), range: c.code2ProtocolConverter.asRange(range) }];
  const result = await vscode.window.withProgress<unknown>(
    { location: vscode.ProgressLocation.Notification, title: 'Local LLM: explaining…', cancellable: true },
    (_progress, token) => c.sendRequest(ExecuteCommandRequest.type, { command: EXPLAIN_COMMAND, arguments: args }, token),
  );
  if (typeof result !== 'string' || result.trim() === '') {
    void vscode.window.showWarningMessage('Local LLM: the model returned no explanation.');
    return;
  }
  await showExplanation(result, explanationTitle(args));
}

async function askForQuestion(args: unknown[] | undefined): Promise<unknown[] | undefined> {
  const question = await vscode.window.showInputBox({
    title: 'Local LLM: ask the workspace',
    prompt: args?.length ? 'A question about the selected code (answered from the workspace)' : 'A question about the workspace',
    ignoreFocusOut: true,
  });
  return question && question.trim() !== '' ? withQuestion(args, question.trim()) : undefined;
}

async function showAnswer(raw: unknown): Promise<unknown> {
  const result = parseAskResult(raw);
  if (!result) {
    void vscode.window.showWarningMessage('Local LLM: the server returned no answer.');
    return raw;
  }
  await showExplanation(askMarkdown(result), askTitle(result.question), true);
  return raw;
}

async function askWorkspace(): Promise<void> {
  if (!client || !client.isRunning()) {
    void vscode.window.showWarningMessage('Local LLM: the server is not running (see "Local LLM: Show Log").');
    return;
  }
  const c = client;
  const editor = vscode.window.activeTextEditor;
  const selection = editor && !editor.selection.isEmpty
    ? [{ uri: c.code2ProtocolConverter.asUri(editor.document.uri), range: c.code2ProtocolConverter.asRange(editor.selection) }]
    : [];
  const args = await askForQuestion(selection);
  if (!args) {
    return;
  }
  const result = await vscode.window.withProgress<unknown>(
    { location: vscode.ProgressLocation.Notification, title: 'Local LLM: asking the workspace…', cancellable: true },
    (_progress, token) => c.sendRequest(ExecuteCommandRequest.type, { command: ASK_COMMAND, arguments: args }, token),
  );
  await showAnswer(result);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Local LLM', { log: true });
  statusItem = vscode.window.createStatusBarItem('localLlm.status', vscode.StatusBarAlignment.Right, 100);
  statusItem.name = 'Local LLM';
  statusItem.command = 'localLlm.showLog';
  context.subscriptions.push(
    output,
    statusItem,
    vscode.commands.registerCommand('localLlm.explainSelection', explainSelection),
    vscode.commands.registerCommand('localLlm.askWorkspace', askWorkspace),
    vscode.commands.registerCommand('localLlm.restartServer', async () => {
      await stopClient();
      await startClient();
    }),
    vscode.commands.registerCommand('localLlm.showLog', () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('localLlm')) {
        return;
      }
      if (needsRestart((s) => e.affectsConfiguration(s))) {
        await stopClient();
        await startClient();
      } else if (client?.isRunning()) {
        await client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: { localLlm: toInitializationOptions(readSettings(), pathContext()) },
        });
      }
    }),
  );
  await startClient();
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
