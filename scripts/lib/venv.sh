#!/usr/bin/env bash
# ensure_venv NAME EXE [CHECK]: makes <repo>/.venv/NAME hold what scripts/requirements-NAME.txt pins.
#
# Contract (shared by scripts/moto-venv.sh and scripts/openbao-venv.sh):
#   - Works from any cwd. Idempotent: when .venv/NAME/.requirements.sha256 matches the sha256 of the
#     requirements file and .venv/NAME/bin/EXE exists, pip is not run at all.
#   - The stamp is written only after a successful install (and CHECK, a shell function that prints
#     the installed version or fails), so an interrupted run retries next time.
#   - Prints exactly one status line on stderr on success; stdout stays empty.
#   - Exit 2 with a one-line message if python3 is missing, or venv creation, pip or CHECK fails
#     (the pip output is kept in .venv/NAME/pip.log).
#   - Not safe to run concurrently with itself; callers that may race (vitest workers) must lock.
ensure_venv() {
  local name="$1" exe="$2" check="${3:-}"
  local root req venv stamp want start version
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  req="$root/scripts/requirements-$name.txt"
  venv="$root/.venv/$name"
  stamp="$venv/.requirements.sha256"
  die() { echo "$name-venv: $*" >&2; exit 2; }

  command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH (need python >= 3.9 with venv)"
  [[ -f "$req" ]] || die "missing $req"
  if command -v sha256sum >/dev/null 2>&1; then
    want="$(sha256sum "$req" | cut -d' ' -f1)"
  else
    want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$req")"
  fi
  if [[ -x "$venv/bin/$exe" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$name-venv: up to date ($venv)" >&2
    return 0
  fi
  start=$SECONDS
  if [[ ! -x "$venv/bin/python" ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv" >/dev/null 2>&1 || die "python3 -m venv $venv failed (is the venv module installed?)"
  fi
  rm -f "$stamp"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >"$venv/pip.log" 2>&1 \
    || die "pip install -r scripts/requirements-$name.txt failed; see $venv/pip.log"
  [[ -x "$venv/bin/$exe" ]] || die "pip succeeded but $venv/bin/$exe is missing"
  if [[ -n "$check" ]]; then
    version="$("$check" "$venv")" || die "$venv/bin/$exe: version check failed"
  else
    version="$("$venv/bin/python" -m pip show "$name" 2>/dev/null | sed -n "s/^Version: /$name /p")"
  fi
  echo "$want" >"$stamp"
  echo "$name-venv: installed $version into $venv in $((SECONDS - start))s" >&2
}
