#!/usr/bin/env bash
# Ensures <repo>/.venv/moto holds moto_server as pinned in scripts/requirements-moto.txt.
#
# Contract:
#   - Works from any cwd. Idempotent: when .venv/moto/.requirements.sha256 matches the sha256 of the
#     requirements file and .venv/moto/bin/moto_server exists, pip is not run at all.
#   - The stamp is written only after a successful install, so an interrupted run retries next time.
#   - Prints exactly one status line on stderr on success; stdout stays empty.
#   - Exit 2 with a one-line message if python3 is missing or venv creation / pip fails (the pip
#     output is kept in .venv/moto/pip.log).
#   - Not safe to run concurrently with itself; callers that may race (vitest workers) must lock.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="$ROOT/scripts/requirements-moto.txt"
VENV="$ROOT/.venv/moto"
STAMP="$VENV/.requirements.sha256"

die() { echo "moto-venv: $*" >&2; exit 2; }

command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH (need python >= 3.9 with venv)"
[[ -f "$REQ" ]] || die "missing $REQ"

if command -v sha256sum >/dev/null 2>&1; then
  want="$(sha256sum "$REQ" | cut -d' ' -f1)"
else
  want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$REQ")"
fi

if [[ -x "$VENV/bin/moto_server" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "moto-venv: up to date ($VENV)" >&2
  exit 0
fi

start=$SECONDS
if [[ ! -x "$VENV/bin/python" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >/dev/null 2>&1 || die "python3 -m venv $VENV failed (is the venv module installed?)"
fi
rm -f "$STAMP"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ" >"$VENV/pip.log" 2>&1 \
  || die "pip install -r scripts/requirements-moto.txt failed; see $VENV/pip.log"
[[ -x "$VENV/bin/moto_server" ]] || die "pip succeeded but $VENV/bin/moto_server is missing"
echo "$want" >"$STAMP"
echo "moto-venv: installed $("$VENV/bin/python" -m pip show moto 2>/dev/null | sed -n 's/^Version: /moto /p') into $VENV in $((SECONDS - start))s" >&2
