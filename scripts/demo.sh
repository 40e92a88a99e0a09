#!/usr/bin/env bash
# `npm run demo`: a full scan of a local demo estate. Sets itself up (npm ci, build, the moto and
# OpenBao venvs), starts moto_server, seeds a multi-account AWS estate and a Vault estate, then runs
# credwarden for real: `scan --once` through the queues, `inventory`, `audit verify` and a signed
# checkpoint; then it serves the dashboard (`credwarden serve`, whose URL it prints) until Ctrl-C.
# Vault: if VAULT_ADDR is set (with an admin VAULT_TOKEN), that Vault is seeded and scanned;
# otherwise a real OpenBao dev server (`bao` from .venv/openbao, in memory, on a free port, with a
# random root token) is started for the demo and stopped when it ends. Leases come from the
# database engine against the PostgreSQL at CW_DEMO_POSTGRES (default 127.0.0.1:5432, trust auth)
# when it is reachable; otherwise the demo says it seeded none. Redis comes from REDIS_URL (default
# redis://127.0.0.1:6379); the demo uses its own key prefix and clears it first.
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
  VAULT_DEMO_LEASES="[aws/creds/, database/creds/]"
  VAULT_DEMO_AWS_MOUNTS="[aws]"
  CW_DEMO_VAULT_TOKEN="$(npx tsx scripts/demo/seed-vault.ts)"
else
  BAO=.venv/openbao/bin/bao
  BAO_PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})')"
  BAO_ROOT="$(node -e 'process.stdout.write("demo-root-"+require("crypto").randomBytes(16).toString("hex"))')"
  VAULT_DEMO_ADDR="http://127.0.0.1:$BAO_PORT"
  # OpenBao has no AWS secrets engine: its leases come from the database engine only.
  VAULT_DEMO_LEASES="[database/creds/]"
  VAULT_DEMO_AWS_MOUNTS="[]"
  # The root token goes through the environment, not the command line; none of the caller's
  # VAULT_*/BAO_* settings reach the server. -dev-no-store-token: nothing is written to ~/.vault-token.
  env -u BAO_ADDR -u BAO_TOKEN -u VAULT_TOKEN -u VAULT_NAMESPACE BAO_DEV_ROOT_TOKEN_ID="$BAO_ROOT" \
    "$BAO" server -dev -dev-no-store-token -dev-listen-address="127.0.0.1:$BAO_PORT" > "$DEMO/openbao.log" 2>&1 &
  BAO_PID=$!
  stop_openbao() {
    # Revoke the database leases first: that drops the PostgreSQL users they created.
    BAO_ROOT="$BAO_ROOT" node -e 'fetch(process.argv[1]+"/v1/sys/leases/revoke-prefix/database/creds",{method:"PUT",headers:{"X-Vault-Token":process.env.BAO_ROOT},body:"{\"sync\":true}",signal:AbortSignal.timeout(5000)}).catch(()=>{})' "$VAULT_DEMO_ADDR" 2>/dev/null || true
    kill "$BAO_PID" 2>/dev/null || true
  }
  trap stop_openbao EXIT
  BAO_ROOT="$BAO_ROOT" node -e 'const a=process.argv[1],t=process.env.BAO_ROOT;const end=Date.now()+30000;(async()=>{for(;;){try{const h=await fetch(a+"/v1/sys/health");const s=await fetch(a+"/v1/auth/token/lookup-self",{headers:{"X-Vault-Token":t}});if(h.status===200&&s.status===200)process.exit(0)}catch{}if(Date.now()>end)process.exit(1);await new Promise(r=>setTimeout(r,100))}})()' "$VAULT_DEMO_ADDR" \
    || { echo "demo: OpenBao did not start on $VAULT_DEMO_ADDR (see $DEMO/openbao.log)" >&2; exit 2; }
  echo "demo: VAULT_ADDR is not set, so Vault is a local OpenBao dev server ($("$BAO" version | cut -d' ' -f1,2), from .venv/openbao; in memory, stopped when the demo ends) at $VAULT_DEMO_ADDR" >&2
  CW_DEMO_VAULT_TOKEN="$(VAULT_ADDR="$VAULT_DEMO_ADDR" VAULT_TOKEN="$BAO_ROOT" CW_DEMO_POSTGRES="${CW_DEMO_POSTGRES:-127.0.0.1:5432}" npx tsx scripts/demo/seed-vault.ts)"
fi
export CW_DEMO_VAULT_TOKEN

# The dashboard's sign-in: an admin API token for this demo (only its scrypt hash goes into the
# config) and an Ed25519 evidence key for checkpoints and evidence packs, both mode 600 under .cw/demo.
umask 077
node -e 'process.stdout.write("cwdemo-"+require("crypto").randomBytes(24).toString("base64url"))' > "$DEMO/admin.token"
DEMO_TOKEN_HASH="$(node dist/src/cli/main.js api token-hash < "$DEMO/admin.token")"
[ -f "$DEMO/evidence.key" ] || node -e 'const {generateKeyPairSync}=require("crypto");process.stdout.write(generateKeyPairSync("ed25519").privateKey.export({type:"pkcs8",format:"pem"}))' > "$DEMO/evidence.key"
umask 022
DEMO_PORT="${CW_DEMO_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})')}"

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
    leasePrefixes: $VAULT_DEMO_LEASES
    awsMounts: $VAULT_DEMO_AWS_MOUNTS
registry: agents.yaml
audit: { file: audit.jsonl }
scan: { timeoutSeconds: 120 }
api:
  listen: 127.0.0.1:$DEMO_PORT
  tokens:
    - { subject: demo-admin, roles: [admin], hash: "$DEMO_TOKEN_HASH" }
evidence: { signingKey: evidence.key }
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
echo; echo "\$ credwarden audit checkpoint"; cw audit checkpoint
echo
echo "demo: config in $DEMO/credwarden.yaml, audit trail in $DEMO/audit.jsonl; moto keeps running (scripts/moto-server.sh stop)."
if [ -z "${VAULT_ADDR:-}" ]; then
  echo "demo: the OpenBao dev server stops with the demo; set VAULT_ADDR and an admin VAULT_TOKEN to seed and scan another Vault instead."
fi
if [ "${CW_DEMO_SERVE:-1}" = "0" ]; then
  echo "demo: the dashboard: node dist/src/cli/main.js --config $DEMO/credwarden.yaml serve, then sign in with the token in $DEMO/admin.token"
  exit 0
fi
# Last: the dashboard over the scanned estate, until Ctrl-C. `serve` prints its URL.
echo "demo: sign in with the admin token in $DEMO/admin.token: $(cat "$DEMO/admin.token")"
echo "demo: Ctrl-C stops the dashboard (and the OpenBao dev server). CW_DEMO_SERVE=0 ends the demo without it."
cw serve
