#!/usr/bin/env bash
# First-run throughput of durable submit and status read, with wrk against a fresh store.
# The performance issue replaces this with bench/run (side by side with the Hermes peer and
# nginx); this script only makes the figures in docs/benchmarks.md reproducible.
#
#   bench/wrk_first_run.sh [DURATION] [CONNECTIONS]     (defaults: 10s, 64)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
connections=${2:-64}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
make build >/dev/null

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

./build/countersign serve --listen 127.0.0.1:0 --store "sqlite:$work/cs.db" \
  --port-file "$work/port" --log-level warn >"$work/log" 2>&1 &
server_pid=$!
while [ ! -s "$work/port" ]; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/log"; exit 1; }
  sleep 0.05
done
port=$(cat "$work/port")
token=$(cat "$work/admin.token")
url=http://127.0.0.1:$port

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"action":"deploy_production","title":"Deploy v2.0","arguments":{"ref":"v2.0"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
id=$(curl -sf -X POST "$url/v1/requests" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"action":"read_status","title":"t"}' |
  sed -E 's/.*"id":"([^"]+)".*/\1/')

run() {  # name, wrk arguments...
  local name=$1
  shift
  local out
  out=$(wrk -t2 -c"$connections" -d"$duration" --latency "$@")
  printf '%-34s %10s req/s   p50 %8s   p99 %8s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}

echo "wrk -t2 -c$connections -d$duration, $(nproc) cores, SQLite synchronous=FULL"
run "POST /v1/requests (durable)" -s "$work/post.lua" "$url/v1/requests"
run "GET /v1/requests/{id}" -H "Authorization: Bearer $token" "$url/v1/requests/$id"
