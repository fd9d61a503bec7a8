#!/usr/bin/env bash
# The search benchmark: seeds 1,000,000 messages across 1,000 conversations (seed.py),
# starts a release build over them, and measures GET /api/search at 20 concurrent
# clients (load.py) for a word in exactly 1,000 messages, its prefix, a from: filter, a
# reader who sees a tenth of the hits, the most common word and a one-letter prefix;
# then the sizes of the index and of the table. Usage: bench/search/run.sh [sqlite|postgres] [seconds]
#   postgres uses $BENCH_DATABASE_URL (default: a fresh database on 127.0.0.1:5432).
#   BENCH_DIR (default: a temporary directory) keeps the SQLite file; with REUSE=1 an
#   already seeded database is used as it is.
set -euo pipefail

backend=${1:-sqlite}
seconds=${2:-20}
clients=${CLIENTS:-20}
port=18091
base=http://127.0.0.1:$port
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/../.."
cargo build --release --quiet
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
export APP_ENV=test RUST_LOG=warn JWT_SECRET=${JWT_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}

case $backend in
    sqlite)
        url="sqlite://$work/search.db"
        if [ "${REUSE:-0}" != 1 ]; then
            rm -f "$work"/search.db*
            DATABASE_URL=$url target/release/palaver migrate
            time python3 "$here/seed.py" sqlite "$work/search.db"
        fi ;;
    postgres)
        url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/palaver_search_bench}
        if [ "${REUSE:-0}" != 1 ]; then
            psql "${url%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${url##*/}" -c "CREATE DATABASE ${url##*/}"
            DATABASE_URL=$url target/release/palaver migrate
            time python3 "$here/seed.py" postgres "$url"
        fi ;;
    *) echo "usage: $0 [sqlite|postgres] [seconds]" >&2; exit 2 ;;
esac

BIND_ADDR=127.0.0.1:$port DATABASE_URL=$url target/release/palaver serve &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$base/health/live" >/dev/null && break; sleep 0.2; done

searcher=$(DATABASE_URL=$url target/release/palaver token --user searcher)
partial=$(DATABASE_URL=$url target/release/palaver token --user partial)

run() { python3 "$here/load.py" "$base" "$1" "$2" --clients "$clients" --seconds "$seconds" ${3:+--params "$3"}; }
echo "== $backend: searcher, a member of all 1,000 conversations"
run "$searcher" zephyr
run "$searcher" zeph
run "$searcher" "from:author001 zephyr"
run "$searcher" zephyr limit=50
echo "== $backend: partial, a member of 100 conversations"
run "$partial" zephyr
echo "== $backend: the most common word (in about two thirds of the messages), and a one-letter prefix"
run "$searcher" haipipi
run "$searcher" h

echo "== $backend: sizes"
case $backend in
    sqlite)
        sqlite3 "$work/search.db" <<'SQL'
.mode list
SELECT 'messages table: ' || SUM(pgsize) FROM dbstat WHERE name = 'messages';
SELECT 'messages indexes: ' || SUM(pgsize) FROM dbstat WHERE name IN
    (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages');
SELECT 'search index (messages_fts_*): ' || SUM(pgsize) FROM dbstat WHERE name LIKE 'messages_fts_%';
SELECT 'file: ' || ((SELECT page_count FROM pragma_page_count) * (SELECT page_size FROM pragma_page_size));
SQL
        ;;
    postgres)
        psql "$url" -qAt <<'SQL'
SELECT 'messages heap (with content_tsv): ' || pg_relation_size('messages');
SELECT 'messages toast: ' || COALESCE(pg_relation_size(reltoastrelid), 0) FROM pg_class WHERE relname = 'messages';
SELECT 'content_tsv bytes (in the heap): ' || SUM(pg_column_size(content_tsv)) FROM messages;
SELECT 'content bytes: ' || SUM(pg_column_size(content)) FROM messages;
SELECT 'GIN index messages_content_tsv_idx: ' || pg_relation_size('messages_content_tsv_idx');
SELECT 'other messages indexes: ' || (pg_indexes_size('messages') - pg_relation_size('messages_content_tsv_idx'));
SQL
        ;;
esac
