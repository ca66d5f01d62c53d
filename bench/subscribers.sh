#!/usr/bin/env bash
# Live-feed latency: one release gridhub process, SUBSCRIBERS WebSocket clients subscribed to
# eventChanged for the district, while EVENTS events are reported and accepted through HTTP one
# after another. Prints, per delivered change, the time from sending the mutation to its receipt
# (count, p50, p99, max) for each database. The hub is seeded with PERSONS persons per database
# (a fresh database each run: the events it reports stay behind).
#
# Environment: SUBSCRIBERS (1000), EVENTS (100), PAUSE_MILLIS between mutations (300),
# WITHOUT_EVENT=1 to subscribe without selecting the event itself,
# PERSONS (20000), DATABASES ("sqlite postgres"), BENCH_PG_URL
# (postgres://postgres@127.0.0.1:5432), BENCH_PORT (18085).
set -euo pipefail

SUBSCRIBERS=${SUBSCRIBERS:-1000}
EVENTS=${EVENTS:-100}
PAUSE_MILLIS=${PAUSE_MILLIS:-300}
WITHOUT_EVENT=${WITHOUT_EVENT:-}
PERSONS=${PERSONS:-20000}
DATABASES=${DATABASES:-sqlite postgres}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-18085}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=$ROOT/bench/data
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
GRIDHUB=$TARGET/release/gridhub
BENCH=$TARGET/release/gridhub-bench
SECRET=bench-subscribers-secret
SERVER_PID=

log() { printf '[bench-subscribers %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT

export GRIDHUB__AUTH__REQUIRED=true GRIDHUB__AUTH__JWT_HS256_SECRET=$SECRET
export GRIDHUB__ACCESS__POLICY_FILE=$DATA/policy-unlimited.toml GRIDHUB__SEED__PERSONS_ON_FIRST_START=0

prepare() {
    mkdir -p "$DATA"
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    log "building gridhub and gridhub-bench (release)"
    (cd "$ROOT" && cargo build --release -p gridhub -p gridhub-bench)
    # The built-in roles without their request-rate limits: the benchmark measures latency, not limits.
    grep -v 'requests_per_minute' "$ROOT/src/access/policy.toml" > "$DATA/policy-unlimited.toml"
}

# A fresh, seeded database for $1; prints its URL.
fresh_database() {
    case $1 in
        sqlite)
            rm -f "$DATA"/subscribers.db*
            echo "sqlite://$DATA/subscribers.db?mode=rwc" ;;
        postgres)
            psql -q -d "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS gridhub_bench_subscribers WITH (FORCE)" >&2
            psql -q -d "$PG_URL/postgres" -c "CREATE DATABASE gridhub_bench_subscribers" >&2
            echo "$PG_URL/gridhub_bench_subscribers" ;;
    esac
}

# Codes of the district and of its first grid (level `grid`), as "district grid".
codes() {
    curl -sf "http://127.0.0.1:$PORT/graphql" -H "Authorization: Bearer $1" \
        -H 'content-type: application/json' \
        -d '{"query":"{ d: grids(filter: {levels: [DISTRICT]}, first: 1) { nodes { code } } g: grids(filter: {levels: [GRID]}, first: 1) { nodes { code } } }"}' |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["d"]["nodes"][0]["code"], d["g"]["nodes"][0]["code"])'
}

measure() {
    local database=$1 url
    url=$(fresh_database "$database")
    log "$database: seeding $PERSONS persons"
    "$GRIDHUB" seed --persons "$PERSONS" --database "$url" >/dev/null
    RUST_LOG=warn "$GRIDHUB" serve --listen "127.0.0.1:$PORT" --database "$url" \
        >"$DATA/subscribers-server-$database.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
    local admin district grid
    admin=$("$GRIDHUB" token issue --subject bench-admin --role admin --expires-in 86400)
    read -r district grid < <(codes "$admin")
    log "$database: $SUBSCRIBERS subscribers to district $district, events reported in grid $grid"
    printf '%s ' "$database"
    "$BENCH" subscribers --base "http://127.0.0.1:$PORT" --token "$admin" \
        --watch "$district" --report-in "$grid" --subscribers "$SUBSCRIBERS" \
        --events "$EVENTS" --pause-millis "$PAUSE_MILLIS" ${WITHOUT_EVENT:+--without-event}
    local rss
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    log "$database: server peak RSS $((rss / 1024)) MB"
    stop_server
}

main() {
    prepare
    for database in $DATABASES; do
        measure "$database"
    done
}

main "$@"
