#!/usr/bin/env bash
# The whole VS Code pipeline, as CI runs it: toolchain (setup-e2e.sh), npm ci, tsc, eslint,
# unit tests (node:test), package the .vsix, then the end-to-end test in code-server + Chromium
# (tests/clients/test_vscode.py, which gives scripts/e2e.mjs the real server and the tiny model).
#   scripts/ci.sh            everything
#   scripts/ci.sh --no-e2e   stop after packaging (no code-server, no Chromium needed)
# PYTHON: the project's Python with the server and test extras (default <repo>/.venv/bin/python).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
E2E=1
[[ "${1:-}" == "--no-e2e" ]] && E2E=0

step() { echo; echo "=== vscode: $* ($(date +%T))"; }
cd "$HERE"

step "toolchain"
if (( E2E )); then
  eval "$(PYTHON=python3 scripts/setup-e2e.sh)"
else
  eval "$(PYTHON=python3 scripts/setup-e2e.sh --node-only)"   # Node 24: node --test globs
fi
export npm_config_loglevel=error npm_config_fund=false npm_config_audit=false
echo "node $(node --version), npm $(npm --version)"

step "npm ci"
npm ci --no-audit --no-fund

step "tsc"
npx tsc -p .

step "eslint"
npm run -s lint

step "unit tests"
npm test

step "package"
rm -f local-llm-lsp.vsix
npm run -s package </dev/null
ls -l local-llm-lsp.vsix

if (( E2E )); then
  step "end-to-end (code-server + Chromium)"
  if ! "$PYTHON" -c 'import lsp_server, pytest' 2>/dev/null; then
    echo "PYTHON=$PYTHON cannot import lsp_server and pytest: set PYTHON to the project's venv python" >&2
    exit 1
  fi
  cd "$REPO"
  LOCAL_LLM_VSCODE_E2E=1 "$PYTHON" -m pytest -p no:cacheprovider -q -m editor tests/clients/test_vscode.py
fi
