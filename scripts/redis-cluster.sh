#!/usr/bin/env bash
# A local Redis Cluster for the tests: three masters, no replicas, nothing kept on disk.
#
#   bash scripts/redis-cluster.sh start   # prints the seed URL (redis://127.0.0.1:<port>) on stdout
#   bash scripts/redis-cluster.sh stop    # shuts the nodes down and removes their directory
#   bash scripts/redis-cluster.sh status  # the seed URL of the running cluster, exit 1 if none
#
# The nodes take the first free ports from CW_REDIS_CLUSTER_PORT (7101) up, skipping any port
# (or its cluster bus port, +10000) already in use. Their files live in .cw/redis-cluster/<port>;
# .cw/redis-cluster/ports lists them. `start` stops a cluster left over from a previous run first,
# so it is safe to call again. Only nodes this script started (their pid files) are shut down.
# Progress goes to stderr; stdout holds only the URL, so scripts can write
#   CW_TEST_REDIS_CLUSTER="$(bash scripts/redis-cluster.sh start)"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${CW_REDIS_CLUSTER_DIR:-$ROOT/.cw/redis-cluster}"
BASE="${CW_REDIS_CLUSTER_PORT:-7101}"
HOST=127.0.0.1
MASTERS=3
SERVER="${REDIS_SERVER:-redis-server}"
CLI="${REDIS_CLI:-redis-cli}"

say() { echo "redis-cluster: $*" >&2; }

# True when something accepts connections on the port.
busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# The pid in a node's pid file, if that process is still a redis-server.
node_pid() {
  local f="$DIR/$1/redis.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

stop() {
  [ -d "$DIR" ] || return 0
  local port pid
  for port in $(cat "$DIR/ports" 2>/dev/null); do
    pid="$(node_pid "$port")" || continue
    "$CLI" -h "$HOST" -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    say "stopped node $port (pid $pid)"
  done
  rm -rf "$DIR"
}

wait_ok() { # every node: cluster_state:ok and all masters known
  local port info
  for _ in $(seq 1 100); do
    local ok=1
    for port in "$@"; do
      info="$("$CLI" -h "$HOST" -p "$port" cluster info 2>/dev/null || true)"
      if ! grep -q '^cluster_state:ok' <<<"$info" || ! grep -q "^cluster_known_nodes:$#" <<<"$info"; then
        ok=0
        break
      fi
    done
    [ "$ok" = 1 ] && return 0
    sleep 0.1
  done
  say "the cluster did not reach cluster_state:ok on every node"
  return 1
}

start() {
  command -v "$SERVER" >/dev/null || { say "$SERVER not found"; exit 2; }
  stop
  mkdir -p "$DIR"
  local ports=() port="$BASE"
  while [ "${#ports[@]}" -lt "$MASTERS" ]; do
    [ "$port" -gt 65000 ] && { say "no free ports from $BASE"; exit 2; }
    if ! busy "$port" && ! busy $((port + 10000)); then ports+=("$port"); fi
    port=$((port + 1))
  done
  echo "${ports[*]}" >"$DIR/ports"
  for port in "${ports[@]}"; do
    mkdir -p "$DIR/$port"
    "$SERVER" --port "$port" --bind "$HOST" --cluster-enabled yes \
      --cluster-config-file "$DIR/$port/nodes.conf" --cluster-node-timeout 5000 \
      --dir "$DIR/$port" --appendonly no --save '' --maxmemory-policy noeviction \
      --pidfile "$DIR/$port/redis.pid" --logfile "$DIR/$port/redis.log" --daemonize yes
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 50); do "$CLI" -h "$HOST" -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  local nodes=()
  for port in "${ports[@]}"; do nodes+=("$HOST:$port"); done
  "$CLI" --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 || {
    say "redis-cli --cluster create failed:"
    cat "$DIR/create.log" >&2
    stop
    exit 2
  }
  wait_ok "${ports[@]}" || { stop; exit 2; }
  say "cluster up on ports ${ports[*]} ($DIR)"
  echo "redis://$HOST:${ports[0]}"
}

status() {
  local port
  port="$(cut -d' ' -f1 "$DIR/ports" 2>/dev/null)" || exit 1
  node_pid "$port" >/dev/null || exit 1
  echo "redis://$HOST:$port"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
