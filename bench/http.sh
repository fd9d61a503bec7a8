#!/usr/bin/env bash
# Load test of the message endpoints with wrk (Debian's package `wrk`): 50 connections
# against a release build, the server pinned to CPU 0 and wrk to CPU 1.
# Usage: bench/http.sh [sqlite|postgres] [seconds]
#   postgres uses $BENCH_DATABASE_URL (default: a fresh database on 127.0.0.1:5432).
#   SQLITE_SYNCHRONOUS=full bench/http.sh sqlite measures durable commits.
# The send rate limit is raised for the run: one benchmark user sends far more than
# RATE_LIMIT_PER_SEC allows a person.
set -euo pipefail

backend=${1:-sqlite}
seconds=${2:-15}
port=18090
base=http://127.0.0.1:$port
json='Content-Type: application/json'
work=$(mktemp -d)
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet -p palaver

case $backend in
    sqlite) url="sqlite://$work/bench.db" ;;
    postgres)
        url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/palaver_bench}
        psql "${url%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${url##*/}" -c "CREATE DATABASE ${url##*/}" ;;
    *) echo "usage: $0 [sqlite|postgres] [seconds]" >&2; exit 2 ;;
esac

APP_ENV=test RUST_LOG=warn BIND_ADDR=127.0.0.1:$port DATABASE_URL="$url" \
    SQLITE_SYNCHRONOUS="${SQLITE_SYNCHRONOUS:-normal}" \
    RATE_LIMIT_PER_SEC=1000000 RATE_LIMIT_BURST=1000000 \
    taskset -c 0 target/release/palaver serve &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "$base/health/live" >/dev/null && break; sleep 0.2; done

token=$(curl -sf -X POST "$base/api/auth/register" -H "$json" -d '{"username":"bench","password":"benchmark"}' \
    | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
conversation=$(curl -sf -X POST "$base/api/conversations" -H "$json" -H "Authorization: Bearer $token" \
    -d '{"title":"bench"}' | sed -n 's/.*"conversation":{"id":\([0-9]*\).*/\1/p')

cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"conversation_id":$conversation,"content":"hello from the benchmark"}'
LUA

echo "== POST /api/messages ($backend, SQLITE_SYNCHRONOUS=${SQLITE_SYNCHRONOUS:-normal}, 50 connections, ${seconds}s)"
taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency -s "$work/post.lua" "$base/api/messages"

echo "== GET /api/messages?limit=50 ($backend, 50 connections, ${seconds}s)"
taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency -H "Authorization: Bearer $token" \
    "$base/api/messages?conversation_id=$conversation&limit=50"
