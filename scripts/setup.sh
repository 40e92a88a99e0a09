#!/usr/bin/env bash
# Set-up shared by `npm test` and `npm run demo`: dependencies from the lock file, the compiled
# CLI, moto_server and OpenBao (`bao`) in project-local venvs. Idempotent and quick when nothing
# changed: each venv is installed once and then only checked against its requirements file's hash.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

command -v node >/dev/null || { echo "setup: node is not installed (Node >= 20.11 required)" >&2; exit 2; }
stamp=".cw/npm-ci.sha256"
mkdir -p .cw
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
echo "setup: building the CLI (tsc)" >&2
npx tsc -p tsconfig.json
bash scripts/moto-venv.sh
bash scripts/openbao-venv.sh
