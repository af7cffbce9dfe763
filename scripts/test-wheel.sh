#!/usr/bin/env bash
# A plain install, as a new user gets it: build the wheel, install it with the default-model extra
# into a fresh venv outside the repository (and with pipx), and from another folder run a
# completion, --version, `model verify`, and a fix and an explanation through the installed server.
# Usage: bash scripts/test-wheel.sh   (from anywhere; SKIP_PIPX=1 skips the pipx half)
#        PYTHON=/path/to/python  the interpreter that builds the wheel and makes the venvs
#                                (default: the repository's .venv, else python3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
PYTHON="${PYTHON:-$([[ -x .venv/bin/python ]] && echo "$REPO/.venv/bin/python" || command -v python3)}"
unset PYTHONPATH  # the installed package must be the one found, never this checkout
TMP="$(mktemp -d "${TMPDIR:-/tmp}/local-llm-lsp-wheel.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
case "$TMP/" in "$REPO/"*) echo "the temporary folder $TMP is inside the repository" >&2; exit 1 ;; esac
VERSION="$(sed -n 's/^version = "\([^"]*\)".*/\1/p' pyproject.toml | head -1)"
step() { echo "--- $* ($(date +%T))"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
# pip's notes about a configured local index that lacks a package are noise here
pip_quiet() { "$@" 2> >(grep -v "^WARNING: Location 'file:" >&2); }

step "build the wheel"
# From a copy of the checkout's files (tracked and new, not ignored): an in-place build reuses
# ./build, where files deleted from the source would live on and ship.
mkdir "$TMP/src" "$TMP/dist"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$REPO" ls-files -z --cached --others --exclude-standard \
    | tar -C "$REPO" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$TMP/src" -xf -
else
  tar -C "$REPO" --exclude=.venv --exclude=build --exclude='*.egg-info' --exclude=node_modules -cf - . | tar -C "$TMP/src" -xf -
fi
pip_quiet "$PYTHON" -m pip wheel -q --no-deps -w "$TMP/dist" "$TMP/src"
WHEEL="$(ls "$TMP"/dist/local_llm_lsp-"$VERSION"-*.whl 2>/dev/null | head -1)"
[[ -n "$WHEEL" ]] || fail "no wheel for version $VERSION in $TMP/dist: $(ls "$TMP/dist")"
echo "$(basename "$WHEEL"): $("$PYTHON" -m zipfile -l "$WHEEL" | grep -c 'prompts/.*\.toml') prompt templates"

# The dependency versions of $PYTHON's venv, which the rest of the suite runs with (so pip reuses
# the llama-cpp-python wheel it built for it instead of compiling another release).
: > "$TMP/constraints.txt"
if "$PYTHON" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then  # a venv's Python
  "$PYTHON" -m pip freeze --exclude-editable 2>/dev/null | grep -v -e ' @ ' -e '^-e' > "$TMP/constraints.txt" || true
fi

# check BIN: the installed `local-llm-lsp` in BIN, run from a folder of its own
check() {
  local bin="$1" work="$TMP/work-$2"
  mkdir -p "$work" && cd "$work"
  printf 'def add(a, b):\n    return \n' > add.py
  step "$2: local-llm-lsp --version"
  local got; got="$("$bin/local-llm-lsp" --version)"
  echo "$got"
  [[ "$got" == "local-llm-lsp $VERSION" ]] || fail "--version printed '$got', pyproject.toml says $VERSION"
  step "$2: local-llm-lsp complete add.py --line 2 --column 12"
  got="$("$bin/local-llm-lsp" complete add.py --line 2 --column 12)" || fail "complete exited with $?"
  echo "completion: '$got'"
  [[ -n "${got//[[:space:]]/}" ]] || fail "the completion is empty"
  step "$2: local-llm-lsp model verify default"
  "$bin/local-llm-lsp" model verify default || fail "model verify failed"
  step "$2: a fix and an explanation through the installed server"
  "$VENV/bin/python" "$REPO/scripts/lsp_smoke.py" "$bin/local-llm-lsp" "$work" \
    || { tail -20 "$work/server.log" >&2; fail "the LSP fix/explain check failed"; }
  cd "$TMP"
}

step "pip: a fresh venv outside the repository"
"$PYTHON" -m venv "$TMP/venv"
VENV="$TMP/venv"
pip_quiet "$VENV/bin/pip" install -q -c "$TMP/constraints.txt" "$WHEEL[default-model]"
where="$(cd "$TMP" && "$VENV/bin/python" -c 'import lsp_server; print(lsp_server.__file__)')"
[[ "$where" == "$VENV/"* ]] || fail "lsp_server was imported from $where, not from the venv"
check "$VENV/bin" pip

if [[ -z "${SKIP_PIPX:-}" ]]; then
  step "pipx: install pipx into a venv of its own"
  "$PYTHON" -m venv "$TMP/pipx-tool"
  pip_quiet "$TMP/pipx-tool/bin/pip" install -q pipx
  export PIPX_HOME="$TMP/pipx-home" PIPX_BIN_DIR="$TMP/pipx-bin" PIPX_MAN_DIR="$TMP/pipx-man"
  step "pipx install \"$(basename "$WHEEL")[default-model]\""
  "$TMP/pipx-tool/bin/pipx" install --quiet --pip-args="-c $TMP/constraints.txt" "$WHEEL[default-model]"
  check "$PIPX_BIN_DIR" pipx
fi
step "the wheel works (local-llm-lsp $VERSION)"
