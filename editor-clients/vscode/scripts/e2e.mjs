#!/usr/bin/env node
// End-to-end test of the packaged extension in a real VS Code: code-server with the .vsix
// installed, driven by Debian's Chromium through playwright-core. Opens a Python file, types,
// waits for the ghost text, accepts it with Tab, saves, and checks the file on disk; then runs
// "Local LLM: Explain Selection" and checks the Markdown in the webview. Screenshots go to
// tests/artifacts/ (and, with --update-readme-image, to images/ghost-text.png and explain.png).
//
// Environment (all optional except the server command and model for a real run):
//   LOCAL_LLM_SERVER_COMMAND  JSON array, the server command (default: <repo>/.venv/bin/python -m lsp_server)
//   LOCAL_LLM_MODEL_PATH      a GGUF file for localLlm.modelPath
//   CODE_SERVER               code-server executable (default: .e2e/code-server/node_modules/.bin/code-server)
//   CHROMIUM                  browser executable (default: /usr/bin/chromium)
//   LOCAL_LLM_VSIX            the packaged extension (default: local-llm-lsp.vsix)
//   LOCAL_LLM_ARTIFACTS       screenshot folder (default: <repo>/tests/artifacts)
//   LOCAL_LLM_E2E_TIMEOUT_MS  per-wait timeout (default 90000)
// Prints a JSON report as its last line; exits 0 when every check passed.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const EXT_DIR = resolve(HERE, '..');
const REPO = resolve(EXT_DIR, '..', '..');
const env = process.env;
const TIMEOUT = Number(env.LOCAL_LLM_E2E_TIMEOUT_MS || 90000);
const CODE_SERVER = env.CODE_SERVER || join(EXT_DIR, '.e2e', 'code-server', 'node_modules', '.bin', 'code-server');
const CHROMIUM = env.CHROMIUM || '/usr/bin/chromium';
const VSIX = resolve(env.LOCAL_LLM_VSIX || join(EXT_DIR, 'local-llm-lsp.vsix'));
const ARTIFACTS = resolve(env.LOCAL_LLM_ARTIFACTS || join(REPO, 'tests', 'artifacts'));
const SERVER_COMMAND = env.LOCAL_LLM_SERVER_COMMAND
  ? JSON.parse(env.LOCAL_LLM_SERVER_COMMAND)
  : [join(REPO, '.venv', 'bin', 'python'), '-m', 'lsp_server'];
const UPDATE_README_IMAGE = process.argv.includes('--update-readme-image');
const KEEP = process.argv.includes('--keep');

const report = { checks: {}, errors: [], screenshots: [] };
const log = (...a) => console.error('[e2e]', ...a);

function check(name, ok, detail) {
  report.checks[name] = { ok: Boolean(ok), detail };
  if (!ok) {
    report.errors.push(`${name}: ${JSON.stringify(detail)}`);
  }
  log(ok ? 'ok  ' : 'FAIL', name, detail === undefined ? '' : JSON.stringify(detail).slice(0, 300));
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) {
        return;
      }
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Open the quick input with `key`, type `text`, wait for a row with `rowText`, pick it. */
async function quickPick(page, key, text, rowText) {
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press(key);
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: TIMEOUT });
    await input.fill(text);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: rowText }).first();
    try {
      await row.waitFor({ timeout: 20000 });
      await row.click();
      return;
    } catch (err) {
      await page.keyboard.press('Escape');
      if (attempt >= 3) {
        throw err;
      }
    }
  }
}

const SAMPLE = 'def add(a, b):\n    return a + b\n\n\n';

async function main() {
  for (const [what, p] of [
    ['code-server', CODE_SERVER],
    ['chromium', CHROMIUM],
    ['vsix', VSIX],
  ]) {
    if (!existsSync(p)) {
      throw new Error(`${what} not found at ${p} (run scripts/setup-e2e.sh and npm run package)`);
    }
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'local-llm-vscode-e2e-'));
  const userData = join(tmp, 'user-data');
  const extensions = join(tmp, 'extensions');
  const folder = join(tmp, 'project');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(folder, { recursive: true });
  const sample = join(folder, 'sample.py');
  writeFileSync(sample, SAMPLE);
  const serverLog = join(tmp, 'server.log');
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.disableAIFeatures': true,
    // Keep the suggest widget out of the way so that Tab goes to the ghost text.
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.inlineSuggest.enabled': true,
    'editor.fontSize': 15,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.activityBar.location': 'top',
    'localLlm.serverCommand': [...SERVER_COMMAND, '--log-file', serverLog],
    'localLlm.modelPath': env.LOCAL_LLM_MODEL_PATH || '',
    'localLlm.maxTokens': 16,
    'localLlm.latencyTargetMs': 5000,
  };
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // code-server is a remote window: machine-scoped settings (localLlm.serverCommand, modelPath)
  // apply only from the remote machine's settings.
  mkdirSync(join(userData, 'Machine'), { recursive: true });
  writeFileSync(join(userData, 'Machine', 'settings.json'), JSON.stringify(settings, null, 2));

  const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
  const inst = spawnSync(CODE_SERVER, [...common, '--install-extension', VSIX], { encoding: 'utf8', timeout: 120000 });
  check('vsix installed', inst.status === 0 && /successfully installed/i.test(inst.stdout + inst.stderr), (inst.stdout + inst.stderr).trim().slice(-300));

  const port = await freePort();
  const cs = spawn(
    CODE_SERVER,
    [
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ...common,
      folder,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let csOut = '';
  cs.stdout.on('data', (d) => (csOut += d));
  cs.stderr.on('data', (d) => (csOut += d));
  let browser;
  try {
    await waitHttp(`http://127.0.0.1:${port}/healthz`, 60000);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: TIMEOUT });
    await sleep(1500);

    // Open sample.py through Quick Open, as a user would.
    await quickPick(page, 'Control+P', 'sample.py', 'sample.py');
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.waitFor({ timeout: TIMEOUT });
    await page.locator('.tab.active', { hasText: 'sample.py' }).waitFor({ timeout: TIMEOUT });
    await editor.locator('.view-lines').click();

    // Status bar: wait for the model to be ready (the item's tooltip/aria label says so).
    const status = page.locator('.statusbar-item', { hasText: 'LLM' }).first();
    await status.waitFor({ timeout: TIMEOUT });
    const readyDeadline = Date.now() + TIMEOUT;
    let label = '';
    while (Date.now() < readyDeadline) {
      label = (await status.getAttribute('aria-label')) || (await status.textContent()) || '';
      if (/ready|error/i.test(label)) {
        break;
      }
      await sleep(250);
    }
    check('status bar shows the model ready', /ready/i.test(label), label);

    // Type at the end of the file; wait for the ghost text.
    await page.keyboard.press('Control+End');
    await page.keyboard.type('result = add(', { delay: 60 });
    const ghost = editor.locator('.ghost-text-decoration, .ghost-text-decoration-preview').first();
    let ghostText = '';
    try {
      await ghost.waitFor({ timeout: TIMEOUT });
      await sleep(300); // let every part of the ghost text render
      ghostText = (await editor.locator('.ghost-text-decoration').allTextContents()).join('');
    } catch (err) {
      await page.screenshot({ path: join(ARTIFACTS, 'vscode-no-ghost-text.png') });
      report.screenshots.push(join(ARTIFACTS, 'vscode-no-ghost-text.png'));
      throw err;
    }
    check('ghost text shown', ghostText.length > 0, ghostText);
    const shot = join(ARTIFACTS, 'vscode-ghost-text.png');
    await page.screenshot({ path: shot });
    report.screenshots.push(shot);
    // The README picture: the editor part only.
    const editorShot = join(ARTIFACTS, 'vscode-ghost-text-editor.png');
    const box = await page.locator('.part.editor').boundingBox();
    await page.screenshot({ path: editorShot, clip: { x: box.x, y: box.y, width: Math.min(box.width, 760), height: 240 } });
    report.screenshots.push(editorShot);
    if (UPDATE_README_IMAGE) {
      copyFileSync(editorShot, join(EXT_DIR, 'images', 'ghost-text.png'));
    }

    // Accept with Tab, save, and read the file back. On a loaded machine a newer suggestion
    // can replace the shown one just as Tab lands; then press again (at most 3 times, only while
    // ghost text is shown) and report how often.
    const lastLineOnDisk = (t) => t.split('\n').filter((l) => l.trim() !== '').pop() || '';
    let text = SAMPLE;
    report.tab_presses = 0;
    report.ghost_at_tab = [];
    while (report.tab_presses < 3) {
      await sleep(500);
      if (!(await ghost.isVisible())) {
        break;
      }
      report.ghost_at_tab.push((await editor.locator('.ghost-text-decoration').allTextContents()).join(''));
      report.tab_presses++;
      await page.keyboard.press('Tab');
      await sleep(1000);
      await page.keyboard.press('Control+S');
      const saveDeadline = Date.now() + 10000;
      const previous = text;
      do {
        await sleep(200);
        text = readFileSync(sample, 'utf8');
      } while (text === previous && Date.now() < saveDeadline);
      if (lastLineOnDisk(text).replace(/\s+/g, '').length > 'result=add()'.length) {
        break;
      }
    }
    const lastLine = lastLineOnDisk(text);
    report.file_after = text;
    check('typed text saved', lastLine.startsWith('result = add('), lastLine);
    const firstGhostLine = ghostText.replace(/\u00a0/g, ' ').split('\n')[0];
    // The accepted text is the shown ghost text, unless a newer suggestion replaced it just
    // before Tab (then tab_presses > 1); either way the model's text, not whitespace, was added.
    report.accepted_shown_ghost_text = lastLine.includes(firstGhostLine.trim());
    check(
      'accepted suggestion in the file',
      lastLine.replace(/\s+/g, '').length > 'result=add()'.length &&
        (report.accepted_shown_ghost_text || report.tab_presses > 1),
      { lastLine, ghost: firstGhostLine, tabPresses: report.tab_presses },
    );

    // Explain the first two lines through the command palette.
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    await quickPick(page, 'F1', '>Local LLM: Explain Selection', 'Explain Selection');
    const explainDeadline = Date.now() + TIMEOUT;
    let explanation = '';
    while (!explanation && Date.now() < explainDeadline) {
      for (const frame of page.frames()) {
        try {
          const el = await frame.$('.local-llm-explanation');
          if (el) {
            explanation = ((await el.textContent()) || '').trim();
          }
        } catch {
          // frame navigated away
        }
        if (explanation) {
          break;
        }
      }
      if (!explanation) {
        await sleep(500);
      }
    }
    report.explanation = explanation;
    check('explanation shown in a webview', explanation.length > 0, explanation.slice(0, 200));
    const explainShot = join(ARTIFACTS, 'vscode-explain.png');
    await page.screenshot({ path: explainShot });
    report.screenshots.push(explainShot);
    if (UPDATE_README_IMAGE && explanation) {
      copyFileSync(explainShot, join(EXT_DIR, 'images', 'explain.png'));
    }

    // The server's "Explain this code" code action (light bulb, Ctrl+.) shows the same view:
    // blank the current page first so that only a new answer fills it again.
    for (const frame of page.frames()) {
      await frame
        .evaluate(() => {
          const el = document.querySelector('.local-llm-explanation');
          if (el) {
            el.textContent = '';
          }
        })
        .catch(() => {});
    }
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('End');
    await page.keyboard.press('Control+.');
    const actionRow = page.locator('.action-widget .monaco-list-row', { hasText: 'Explain this code' }).first();
    let actionExplanation = '';
    try {
      await actionRow.waitFor({ timeout: TIMEOUT });
      report.code_actions = await page.locator('.action-widget .monaco-list-row').allTextContents();
      await actionRow.click();
      const actionDeadline = Date.now() + TIMEOUT;
      while (!actionExplanation && Date.now() < actionDeadline) {
        for (const frame of page.frames()) {
          const el = await frame.$('.local-llm-explanation').catch(() => null);
          const t = el ? ((await el.textContent().catch(() => '')) || '').trim() : '';
          if (t) {
            actionExplanation = t;
            break;
          }
        }
        if (!actionExplanation) {
          await sleep(500);
        }
      }
    } catch (err) {
      report.code_actions_error = String(err);
    }
    check('explain code action shows the answer', actionExplanation.length > 0, {
      offered: report.code_actions,
      text: actionExplanation.slice(0, 120),
    });
  } catch (err) {
    report.errors.push(String(err && err.stack ? err.stack : err));
    try {
      const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
      if (pages[0]) {
        const failShot = join(ARTIFACTS, 'vscode-failure.png');
        await pages[0].screenshot({ path: failShot });
        report.screenshots.push(failShot);
      }
    } catch {
      // best effort
    }
  } finally {
    if (browser) {
      await browser.close().catch(() => {});
    }
    try {
      process.kill(-cs.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    report.server_log_tail = existsSync(serverLog) ? readFileSync(serverLog, 'utf8').slice(-3000) : '(no server log)';
    report.code_server_tail = csOut.slice(-2000);
    const exthostLogs = spawnSync('bash', ['-c', `tail -n 40 $(find ${JSON.stringify(userData)}/logs -name '*Local LLM*' -o -name 'exthost.log' 2>/dev/null) 2>/dev/null`], {
      encoding: 'utf8',
    });
    report.extension_log_tail = (exthostLogs.stdout || '').slice(-3000);
    if (!KEEP) {
      await sleep(500);
      rmSync(tmp, { recursive: true, force: true });
    } else {
      report.tmp = tmp;
    }
  }
}

main()
  .catch((err) => report.errors.push(String(err && err.stack ? err.stack : err)))
  .finally(() => {
    report.ok = report.errors.length === 0 && Object.keys(report.checks).length > 0;
    console.log(JSON.stringify(report));
    process.exit(report.ok ? 0 : 1);
  });
