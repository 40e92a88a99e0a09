#!/usr/bin/env bash
# `npm run demo`: a full scan of a local demo estate. Sets itself up (npm ci, build, moto venv),
# starts moto_server, seeds a multi-account AWS estate and a Vault estate, then runs credwarden
# for real: `scan --once` through the queues, `inventory`, and `audit verify`.
# Vault: if VAULT_ADDR is set (with an admin VAULT_TOKEN), that Vault is seeded and scanned;
# otherwise a local stand-in built on credwarden's Vault test double is started, and the output
# says so. Redis comes from REDIS_URL (default redis://127.0.0.1:6379); the demo uses its own key
# prefix and clears it first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
bash scripts/setup.sh

REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
if ! node -e 'const R=require("ioredis");const r=new R(process.argv[1],{lazyConnect:true,maxRetriesPerRequest:1,retryStrategy:()=>null});r.connect().then(()=>r.ping()).then(()=>process.exit(0),()=>process.exit(1))' "$REDIS_URL" 2>/dev/null; then
  echo "demo: Redis is not reachable at $REDIS_URL (start one, e.g. 'docker compose up -d redis', or set REDIS_URL)" >&2
  exit 2
fi

MOTO="$(bash scripts/moto-server.sh start)"
echo "demo: moto_server at $MOTO" >&2
npx tsx scripts/demo/seed.ts "$MOTO"

DEMO=.cw/demo
mkdir -p "$DEMO"
cp scripts/demo/agents.yaml "$DEMO/agents.yaml"
rm -f "$DEMO/audit.jsonl"
if [ -n "${VAULT_ADDR:-}" ]; then
  [ -n "${VAULT_TOKEN:-}" ] || { echo "demo: VAULT_ADDR is set but VAULT_TOKEN (an admin token for seeding) is not" >&2; exit 2; }
  echo "demo: seeding the real Vault at $VAULT_ADDR" >&2
  VAULT_DEMO_ADDR="$VAULT_ADDR"
  CW_DEMO_VAULT_TOKEN="$(npx tsx scripts/demo/seed-vault.ts)"
else
  READY="$DEMO/vault-standin.json"
  rm -f "$READY"
  node --import tsx scripts/demo/vault-standin.ts "$READY" > "$DEMO/vault-standin.log" 2>&1 &
  STANDIN_PID=$!
  trap 'kill $STANDIN_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do [ -s "$READY" ] && break; sleep 0.1; done
  [ -s "$READY" ] || { echo "demo: the Vault stand-in did not start (see $DEMO/vault-standin.log)" >&2; exit 2; }
  VAULT_DEMO_ADDR="$(node -e 'process.stdout.write(require(process.argv[1]).address)' "$(pwd)/$READY")"
  CW_DEMO_VAULT_TOKEN="$(node -e 'process.stdout.write(require(process.argv[1]).scannerToken)' "$(pwd)/$READY")"
  rm -f "$READY"
  echo "demo: VAULT_ADDR is not set, so Vault is a LOCAL STAND-IN built on credwarden's Vault test double (a model of Vault's HTTP API, not a real Vault) at $VAULT_DEMO_ADDR" >&2
fi
export CW_DEMO_VAULT_TOKEN

cat > "$DEMO/credwarden.yaml" <<YAML
redis: { url: "$REDIS_URL", prefix: credwarden-demo }
aws:
  endpoint: $MOTO
  region: us-east-1
  accounts:
    - { id: "111111111111", name: prod, roleArn: "arn:aws:iam::111111111111:role/credwarden-reader", externalId: "\${env:CW_DEMO_EXTERNAL_ID}" }
    - { id: "222222222222", name: staging, roleArn: "arn:aws:iam::222222222222:role/credwarden-reader" }
    - { id: "333333333333", name: sandbox, roleArn: "arn:aws:iam::333333333333:role/credwarden-reader" }
vault:
  - name: demo
    address: $VAULT_DEMO_ADDR
    token: "\${env:CW_DEMO_VAULT_TOKEN}"
    namespaces: [root]
    approleMounts: [approle]
    leasePrefixes: [aws/creds/]
    awsMounts: [aws]
registry: agents.yaml
audit: { file: audit.jsonl }
scan: { timeoutSeconds: 120 }
YAML
node -e 'const R=require("ioredis");const r=new R(process.argv[1]);(async()=>{let c="0";do{const [n,k]=await r.scan(c,"MATCH","credwarden-demo:*","COUNT",1000);c=n;if(k.length)await r.del(...k)}while(c!=="0");r.disconnect()})()' "$REDIS_URL"

# moto accepts any credentials; these stand in for the default credential chain.
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 CW_DEMO_EXTERNAL_ID=demo-external-id
cw() { node dist/src/cli/main.js --config "$DEMO/credwarden.yaml" "$@"; }

echo; echo "\$ credwarden scan --once"; cw scan --once || true
echo; echo "\$ credwarden inventory"; cw inventory || true
echo; echo "\$ credwarden findings --severity high"; cw findings --severity high || true
echo; echo "\$ credwarden score --agent invoice-bot"; cw score --agent invoice-bot
echo; echo "\$ credwarden audit verify"; cw audit verify
echo
echo "demo: config in $DEMO/credwarden.yaml, audit trail in $DEMO/audit.jsonl; moto keeps running (scripts/moto-server.sh stop)."
echo "demo: the Vault stand-in stops with the demo; set VAULT_ADDR and an admin VAULT_TOKEN to seed and scan a real Vault instead."
