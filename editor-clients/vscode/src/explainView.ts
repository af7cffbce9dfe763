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
