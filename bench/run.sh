#!/usr/bin/env bash
# gridhub read-path benchmark: builds the release binaries, seeds or reuses the district dataset,
# serves it on SQLite and on PostgreSQL, drives the query mix a–e with wrk at 1 and 32
# connections, runs the hand-written SQL baseline for the same queries, and writes
# bench/RESULTS.md. See bench/README.md.
#
# Environment: PERSONS (1000000), DURATION seconds per measurement (10),
# DATABASES ("sqlite postgres"), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432),
# BENCH_PORT (18080).
set -euo pipefail

PERSONS=${PERSONS:-1000000}
DURATION=${DURATION:-10}
DATABASES=${DATABASES:-"sqlite postgres"}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-18080}
QUERIES="a b c d e"
CONNECTIONS="1 32"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
DATA=$BENCH/data
GRIDHUB=$ROOT/target/release/gridhub
HELPER=$ROOT/target/release/gridhub-bench
RESULTS=$DATA/results-$PERSONS.jsonl
SERVER_PID=

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

install_wrk() {
    command -v wrk >/dev/null && return
    log "installing wrk"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
}

build() {
    log "building gridhub and gridhub-bench (release)"
    (cd "$ROOT" && cargo build --release -p gridhub -p gridhub-bench)
}

ensure_postgres() {
    pg_isready -q -d "$PG_URL/postgres" && return
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 30); do pg_isready -q -d "$PG_URL/postgres" && return; sleep 1; done
    log "PostgreSQL did not become ready"; exit 1
}

database_url() {
    case $1 in
        sqlite) echo "sqlite://$DATA/district-$PERSONS.db?mode=rwc" ;;
        postgres) echo "$PG_URL/gridhub_bench_$PERSONS" ;;
        *) log "unknown database '$1' (sqlite or postgres)"; exit 1 ;;
    esac
}

# A dataset is complete when the marker written after its seed finished says so: a file beside
# the SQLite file, a comment on the PostgreSQL database.
is_seeded() {
    case $1 in
        sqlite) [ -f "$DATA/district-$PERSONS.db" ] && [ "$(cat "$DATA/district-$PERSONS.db.seeded" 2>/dev/null)" = "$PERSONS" ] ;;
        postgres) [ "$(psql -qtA -d "$PG_URL/postgres" -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'gridhub_bench_$PERSONS'")" = "seeded $PERSONS" ] ;;
    esac
}

reset_dataset() {
    case $1 in
        sqlite) rm -f "$DATA/district-$PERSONS.db" "$DATA/district-$PERSONS.db-wal" "$DATA/district-$PERSONS.db-shm" "$DATA/district-$PERSONS.db.seeded" ;;
        postgres)
            psql -q -d "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS gridhub_bench_$PERSONS WITH (FORCE)"
            psql -q -d "$PG_URL/postgres" -c "CREATE DATABASE gridhub_bench_$PERSONS" ;;
    esac
}

mark_seeded() {
    case $1 in
        sqlite) echo "$PERSONS" > "$DATA/district-$PERSONS.db.seeded" ;;
        postgres) psql -q -d "$PG_URL/postgres" -c "COMMENT ON DATABASE gridhub_bench_$PERSONS IS 'seeded $PERSONS'" ;;
    esac
}

ensure_dataset() {
    local db=$1 url
    url=$(database_url "$db")
    if is_seeded "$db"; then
        log "$db: reusing the dataset of $PERSONS persons"
    else
        log "$db: seeding $PERSONS persons"
        reset_dataset "$db"
        "$GRIDHUB" seed --persons "$PERSONS" --database "$url"
        mark_seeded "$db"
    fi
    # PostgreSQL plans by table statistics; keep them fresh as autovacuum would in production.
    if [ "$db" = postgres ]; then psql -q -d "$url" -c "ANALYZE"; fi
    "$HELPER" sample --database "$url" --out "$DATA/params-$db.json"
    for q in $QUERIES; do
        python3 "$BENCH/lib/bodies.py" "$DATA/params-$db.json" "$q" "$BENCH/queries/$q.graphql" "$DATA/bodies-$db-$q.lua"
    done
}

start_server() {
    local url=$1
    GRIDHUB__SEED__PERSONS_ON_FIRST_START=0 RUST_LOG=warn \
        "$GRIDHUB" serve --listen "127.0.0.1:$PORT" --database "$url" >"$DATA/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 120); do
        curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.5
    done
    log "gridhub did not become ready; see $DATA/server.log"; exit 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT

# Peak resident memory of the server since the last reset, in kB; the reset (writing 5 to
# clear_refs) makes each measurement's figure its own peak.
peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }
reset_peak_rss() { echo 5 > "/proc/$SERVER_PID/clear_refs" 2>/dev/null || true; }

measure_gridhub() {
    local db=$1 q=$2 c=$3 threads=$(( $3 < 2 ? 1 : 2 )) line
    reset_peak_rss
    line=$(BENCH_BODIES="$DATA/bodies-$db-$q.lua" wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s \
        --latency -s "$BENCH/lib/graphql.lua" "http://127.0.0.1:$PORT" | sed -n 's/^BENCH //p')
    printf '{"db":"%s","query":"%s","connections":%d,"side":"gridhub","rss_kb":%d,"result":%s}\n' \
        "$db" "$q" "$c" "$(peak_rss_kb)" "$line" >> "$RESULTS"
    log "$db $q c=$c gridhub: $line"
}

measure_baseline() {
    local db=$1 q=$2 c=$3 line
    line=$("$HELPER" baseline --database "$(database_url "$db")" --query "$q" --connections "$c" \
        --duration "$DURATION" --params "$DATA/params-$db.json")
    printf '{"db":"%s","query":"%s","connections":%d,"side":"baseline","result":%s}\n' \
        "$db" "$q" "$c" "$line" >> "$RESULTS"
    log "$db $q c=$c SQL: $line"
}

bench_database() {
    local db=$1 url
    url=$(database_url "$db")
    if [ "$db" = postgres ]; then ensure_postgres; fi
    ensure_dataset "$db"
    log "$db: starting gridhub on port $PORT"
    start_server "$url"
    for q in $QUERIES; do for c in $CONNECTIONS; do measure_gridhub "$db" "$q" "$c"; done; done
    stop_server
    for q in $QUERIES; do for c in $CONNECTIONS; do measure_baseline "$db" "$q" "$c"; done; done
}

main() {
    mkdir -p "$DATA"
    install_wrk
    build
    : > "$RESULTS"
    for db in $DATABASES; do bench_database "$db"; done
    python3 "$BENCH/lib/report.py" "$RESULTS" "$BENCH/RESULTS.md" "$PERSONS" "$DURATION"
    log "wrote $BENCH/RESULTS.md"
}

main "$@"
