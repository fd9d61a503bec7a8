#!/usr/bin/env bash
# Smoke run of palaver-bench: every scenario for 5 seconds at small sizes against a
# release server on a free loopback port with a fresh SQLite database. Fails if a
# scenario prints no JSON line, or if any message was lost, repeated or reordered.
# The server binary must already be built (cargo build --release -p palaver); this
# script builds only palaver-bench. Usage: bench/smoke.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
server_bin=$root/target/release/palaver
bench_bin=$root/target/release/palaver-bench

if [[ ! -x $server_bin ]]; then
    echo "smoke: $server_bin is missing: build the server first (cargo build --release -p palaver)" >&2
    exit 1
fi
command -v python3 >/dev/null || { echo "smoke: python3 is needed to check the JSON lines" >&2; exit 1; }

(cd "$root" && CARGO_PROFILE_DEV_DEBUG=0 cargo build --release --quiet -p palaver-bench)

work=$(mktemp -d)
server=
cleanup() {
    if [[ -n $server ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

# The limits a person needs are far below what one benchmark user does. Freed memory
# goes back to the system at once, so connect's memory baseline is not the argon2
# buffers of the registrations (see the README).
(
    cd "$work"
    exec env APP_ENV=test RUST_LOG=warn BIND_ADDR=127.0.0.1:$port \
        DATABASE_URL="sqlite://$work/bench.db" \
        RATE_LIMIT_PER_SEC=1000000 RATE_LIMIT_BURST=1000000 \
        MAX_SOCKETS_PER_USER=1000 LOGIN_ATTEMPTS_PER_MIN=1000000 MIMALLOC_PURGE_DELAY=0 \
        "$server_bin" serve
) >"$work/server.log" 2>&1 &
server=$!

live=
for _ in $(seq 1 100); do
    if python3 -c "import urllib.request, sys; urllib.request.urlopen('$url/health/live', timeout=1)" 2>/dev/null; then
        live=1
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then break; fi
    sleep 0.1
done
if [[ -z $live ]]; then
    echo "smoke: the server did not come up on $url; its log:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

failures=0

# check NAME CONDITION...: the JSON line in $work/NAME.json must satisfy every Python
# expression over `r` given after the name.
check() {
    local name=$1
    shift
    python3 - "$work/$name.json" "$@" <<'EOF'
import json, sys
path, conditions = sys.argv[1], sys.argv[2:]
lines = [line for line in open(path) if line.strip()]
if len(lines) != 1:
    sys.exit(f"expected one JSON line, got {len(lines)}")
r = json.loads(lines[0])
failed = [c for c in conditions if not eval(c, {}, {"r": r})]
if failed:
    sys.exit("failed: " + "; ".join(failed))
EOF
}

run() {
    local name=$1
    shift
    echo "== $name: palaver-bench $*" >&2
    if ! "$bench_bin" --url "$url" "$@" >"$work/$name.json" 2>"$work/$name.log"; then
        echo "smoke: $name exited non-zero; its log:" >&2
        cat "$work/$name.log" >&2
        failures=$((failures + 1))
        return
    fi
    cat "$work/$name.json"
}

verify() {
    local name=$1
    shift
    [[ -s $work/$name.json ]] || return 0
    if ! check "$name" "$@"; then
        echo "smoke: $name: the report does not pass" >&2
        failures=$((failures + 1))
    fi
}

run connect connect --sockets 200 --conversations 20 --users 20 --concurrency 50 --pid "$server" --idle-secs 1
verify connect 'r["scenario"] == "connect"' 'r["opened"] == 200' 'r["failed"] == 0' \
    'r["dropped"] == 0' 'r["server_rss_after_kb"] > 0' 'r["bytes_per_socket"] > 0' 'r["handshake_p50_ms"] > 0'

run broadcast broadcast --members 50 --senders 5 --rate 100 --secs 5 --users 10
verify broadcast 'r["scenario"] == "broadcast"' 'r["sent"] > 0' 'r["acked"] == r["sent"]' \
    'r["delivered"] == r["expected_deliveries"] > 0' 'r["lost"] == 0' 'r["duplicates"] == 0' \
    'r["out_of_order"] == 0' 'r["errors"] == 0' 'r["disconnects"] == 0'

run rooms rooms --rooms 20 --members 5 --rate 1 --secs 5 --users 20
verify rooms 'r["scenario"] == "rooms"' 'r["sent"] > 0' 'r["acked"] == r["sent"]' \
    'r["delivered"] == r["expected_deliveries"] > 0' 'r["lost"] == 0' 'r["duplicates"] == 0' \
    'r["out_of_order"] == 0' 'r["errors"] == 0' 'r["disconnects"] == 0'

if ! kill -0 "$server" 2>/dev/null; then
    echo "smoke: the server died during the run; its log:" >&2
    cat "$work/server.log" >&2
    failures=$((failures + 1))
fi

if ((failures > 0)); then
    echo "smoke: $failures failure(s)" >&2
    exit 1
fi
echo "smoke: all scenarios passed" >&2
