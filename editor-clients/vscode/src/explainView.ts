/**
 * The explanation page: wraps Markdown rendered to HTML (by VS Code's built-in
 * `markdown.api.render`) in a locked-down webview document, or shows the escaped source when no
 * renderer is available. Pure: no `vscode` import.
 */

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * A complete HTML document. `renderedHtml` is trusted output of the Markdown renderer; when it is
 * undefined the Markdown source is shown verbatim. Scripts are blocked by the CSP.
 */
export function explanationHtml(markdown: string, renderedHtml: string | undefined, cspSource: string, title: string): string {
  const body = renderedHtml ?? `<pre class="source">${escapeHtml(markdown)}</pre>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${cspSource} data:; style-src ${cspSource} 'unsafe-inline';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1em; line-height: 1.5; }
  pre, code { font-family: var(--vscode-editor-font-family); }
  pre { background: var(--vscode-textCodeBlock-background); padding: 0.5em; overflow-x: auto; }
  pre.source { white-space: pre-wrap; }
</style>
</head>
<body>
<article class="local-llm-explanation">
${body}
</article>
</body>
</html>`;
}

/** The panel title for `localLlm.explain` arguments: `Explanation: file.py:3-7`. */
export function explanationTitle(args: unknown[] | undefined): string {
  const first = args?.[0] as
    | { uri?: string; range?: { start: { line: number }; end: { line: number; character?: number } } }
    | undefined;
  if (typeof first?.uri !== 'string' || !first.range) {
    return 'Explanation';
  }
  const name = decodeURIComponent(first.uri.split('/').pop() || first.uri);
  const { start, end } = first.range;
  // A selection that ends at the start of a line does not include that line.
  const last = end.character === 0 && end.line > start.line ? end.line : end.line + 1;
  return last === start.line + 1 ? `Explanation: ${name}:${last}` : `Explanation: ${name}:${start.line + 1}-${last}`;
}
