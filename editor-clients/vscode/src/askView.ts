/**
 * "Ask the workspace" in the explanation view: reads the server's `localLlm.ask` result and turns
 * it into Markdown whose citations are `command:vscode.open` links (the webview allows that one
 * command and no scripts). Also the arguments of a `localLlm.ask` call: the code action carries
 * the selection, the question is added here. Pure: no `vscode` import.
 */

export const ASK_COMMAND = 'localLlm.ask';

export interface Location {
  uri: string;
  path: string;
  title: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}

export interface AskResult {
  question: string;
  answer: string;
  citations: Location[];
  passages: Location[];
}

function isLocation(x: unknown): x is Location {
  const l = x as Location;
  return typeof l?.uri === 'string' && typeof l.path === 'string' && typeof l.range?.start?.line === 'number';
}

/** The server's result, or undefined when it is not one. */
export function parseAskResult(x: unknown): AskResult | undefined {
  const r = x as AskResult;
  if (typeof r?.answer !== 'string' || !Array.isArray(r.citations) || !Array.isArray(r.passages)) {
    return undefined;
  }
  return {
    question: typeof r.question === 'string' ? r.question : '',
    answer: r.answer,
    citations: r.citations.filter(isLocation),
    passages: r.passages.filter(isLocation),
  };
}

/** A link that opens `loc` at its first line in the editor (`vscode.open` with a selection). */
export function openLink(loc: Location): string {
  const line = loc.range.start.line;
  const selection = { start: { line, character: 0 }, end: { line, character: 0 } };
  const args = encodeURIComponent(JSON.stringify([loc.uri, { selection, preview: true }]));
  return `command:vscode.open?${args}`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>])/g, '\\$1');
}

/** The answer, then its citations (or, with none, the passages it was answered from) as links. */
export function askMarkdown(result: AskResult): string {
  const lines = [`**${escapeMarkdown(result.question)}**`, '', result.answer];
  const cited = result.citations.length > 0;
  const sources = cited ? result.citations : result.passages;
  if (sources.length > 0) {
    lines.push('', cited ? '**Cited**' : '**Passages searched**', '');
    for (const loc of sources) {
      lines.push(`- [${escapeMarkdown(`${loc.path}:${loc.range.start.line + 1}`)}](${openLink(loc)}) ${escapeMarkdown(loc.title)}`);
    }
  }
  return lines.join('\n');
}

/** The answer so far, from a `localLlm/askText` notification (streaming), as the view shows it. */
export function streamedMarkdown(params: unknown): { question: string; markdown: string } | undefined {
  const p = params as { question?: unknown; text?: unknown };
  if (typeof p?.text !== 'string' || p.text === '' || typeof p.question !== 'string') {
    return undefined;
  }
  return { question: p.question, markdown: `**${escapeMarkdown(p.question)}**\n\n${p.text} …` };
}

/** The panel title: `Ask: <question, shortened>`. */
export function askTitle(question: string): string {
  const q = question.trim().replace(/\s+/g, ' ');
  return `Ask: ${q.length > 40 ? `${q.slice(0, 39)}…` : q}`;
}

/** The arguments of a `localLlm.ask` call with `question` added to the first (the code action's selection). */
export function withQuestion(args: unknown[] | undefined, question: string): unknown[] {
  const first = args?.[0];
  const base = first && typeof first === 'object' ? (first as Record<string, unknown>) : {};
  return [{ ...base, question }];
}

/** Whether the call already has a question (a call from our own command does; a code action's does not). */
export function hasQuestion(args: unknown[] | undefined): boolean {
  const q = (args?.[0] as { question?: unknown } | undefined)?.question;
  return typeof q === 'string' && q.trim() !== '';
}
