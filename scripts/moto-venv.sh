#!/usr/bin/env bash
# Ensures <repo>/.venv/moto holds moto_server as pinned in scripts/requirements-moto.txt
# (the contract is ensure_venv's, in scripts/lib/venv.sh).
set -euo pipefail
# shellcheck source=lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/venv.sh"
ensure_venv moto moto_server
