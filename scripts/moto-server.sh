#!/usr/bin/env bash
# Long-lived moto_server for the demo: scripts/moto-server.sh start|stop|status [--port N]
#
# Contract:
#   start   Ensures the venv (moto-venv.sh), then runs `moto_server -H 127.0.0.1 -p PORT` detached,
#           logging to .cw/moto-PORT.log. PORT is --port N, else 5000 if free, else any free port.
#           Records .cw/moto.pid and .cw/moto.endpoint, waits (<= 20 s) until GET /moto-api/ answers
#           and prints the endpoint URL (http://127.0.0.1:PORT) on stdout. If the recorded server is
#           still alive and answering it is reused (its endpoint is printed); asking for a different
#           --port than the running one is an error.
#   stop    Stops the recorded server (SIGTERM, SIGKILL after 3 s) and removes the files. Exit 0 even if
#           nothing was running.
#   status  Prints the endpoint on stdout and exits 0 when running; exits 3 when not.
# Only a pid whose command line is moto_server is ever signalled. MOTO_ACCOUNT_ID is never set
# (multi-account tests rely on AssumeRole into other account ids). Everything but the endpoint goes
# to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CW="$ROOT/.cw"
PIDF="$CW/moto.pid"
ENDF="$CW/moto.endpoint"
VENV="$ROOT/.venv/moto"

usage() { echo "usage: $0 start|stop|status [--port N]" >&2; exit 64; }
cmd="${1:-}"; [[ $# -gt 0 ]] && shift
port=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) [[ "${2:-}" =~ ^[0-9]+$ ]] || usage; port="$2"; shift 2 ;;
    *) usage ;;
  esac
done

answers() { curl -fsS -o /dev/null --max-time 2 "$1/moto-api/" 2>/dev/null; }
is_moto_pid() { [[ "$1" =~ ^[0-9]+$ ]] && ps -p "$1" -o args= 2>/dev/null | grep -q moto_server; }
recorded_pid() { [[ -f "$PIDF" ]] && cat "$PIDF" || true; }
recorded_endpoint() { [[ -f "$ENDF" ]] && cat "$ENDF" || true; }
running() { local p; p="$(recorded_pid)"; is_moto_pid "$p" && answers "$(recorded_endpoint)"; }
port_free() { "$VENV/bin/python" -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

stop_server() {
  local p; p="$(recorded_pid)"
  if is_moto_pid "$p"; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
    echo "moto: stopped pid $p" >&2
  else
    echo "moto: not running" >&2
  fi
  rm -f "$PIDF" "$ENDF"
}

case "$cmd" in
  start)
    if running; then
      ep="$(recorded_endpoint)"
      if [[ -n "$port" && "$ep" != "http://127.0.0.1:$port" ]]; then
        echo "moto: already running at $ep; run '$0 stop' first to change port" >&2; exit 1
      fi
      echo "moto: reusing pid $(recorded_pid)" >&2; echo "$ep"; exit 0
    fi
    stop_server 2>/dev/null   # clears stale files; only kills a live moto_server pid
    bash "$ROOT/scripts/moto-venv.sh"
    mkdir -p "$CW"
    if [[ -z "$port" ]]; then
      if port_free 5000; then port=5000; else port="$(free_port)"; fi
    elif ! port_free "$port"; then
      echo "moto: port $port is in use" >&2; exit 1
    fi
    log="$CW/moto-$port.log"
    # Detached (own session) so it outlives this shell; exec keeps $! equal to moto_server's pid.
    setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
    pid=$!
    ep="http://127.0.0.1:$port"
    echo "$pid" >"$PIDF"; echo "$ep" >"$ENDF"
    deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
      if answers "$ep"; then echo "moto: started pid $pid, log $log" >&2; echo "$ep"; exit 0; fi
      if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$PIDF" "$ENDF"; echo "moto: moto_server exited during startup; see $log" >&2; tail -n 5 "$log" >&2; exit 1
      fi
      sleep 0.1
    done
    stop_server 2>/dev/null; echo "moto: no answer from $ep/moto-api/ within 20 s; see $log" >&2; exit 1
    ;;
  stop) stop_server ;;
  status)
    if running; then echo "moto: running pid $(recorded_pid)" >&2; recorded_endpoint; else echo "moto: not running" >&2; exit 3; fi
    ;;
  *) usage ;;
esac
