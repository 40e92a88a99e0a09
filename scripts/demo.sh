#!/usr/bin/env bash
# `npm run demo`: a full scan of a local demo estate. Sets itself up (npm ci, build, moto venv),
# starts moto_server, seeds a multi-account AWS estate, then runs credwarden for real:
# `scan --once` through the queues, `inventory`, and `audit verify`. Redis comes from REDIS_URL
# (default redis://127.0.0.1:6379); the demo uses its own key prefix and clears it first.
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
cat > "$DEMO/credwarden.yaml" <<YAML
redis: { url: "$REDIS_URL", prefix: credwarden-demo }
aws:
  endpoint: $MOTO
  region: us-east-1
  accounts:
    - { id: "111111111111", name: prod, roleArn: "arn:aws:iam::111111111111:role/credwarden-reader", externalId: "\${env:CW_DEMO_EXTERNAL_ID}" }
    - { id: "222222222222", name: staging, roleArn: "arn:aws:iam::222222222222:role/credwarden-reader" }
    - { id: "333333333333", name: sandbox, roleArn: "arn:aws:iam::333333333333:role/credwarden-reader" }
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
echo; echo "\$ credwarden audit verify"; cw audit verify
echo
echo "demo: config in $DEMO/credwarden.yaml, audit trail in $DEMO/audit.jsonl; moto keeps running (scripts/moto-server.sh stop)."
