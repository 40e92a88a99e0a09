#!/usr/bin/env bash
# `npm run bench:inventory -- --users N`: see scripts/bench/inventory.ts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
bash scripts/setup.sh >&2
case " $* " in
  *" --vault-tokens "*) ;;
  *) export CW_BENCH_MOTO="$(bash scripts/moto-server.sh start)" ;;
esac
npx tsx scripts/bench/inventory.ts "$@"
