#!/usr/bin/env bash
# Latency of the command-centre screen: `grid(code: <district>) { stats { … everything … } }`
# (bench/queries/stats.graphql) as a command-centre token scoped to the district, sent 200 times
# one after another after 20 warm-up requests; prints p50/p95/p99 in ms per database. Release
# build; the datasets are seeded once (SQLite under bench/data, PostgreSQL as gridhub_stats_N).
#
# Environment: QUERY (bench/queries/stats.graphql; bench/queries/stats-counters.graphql is the
# screen's live counters alone), PERSONS (250000), REPEAT (200), DATABASES ("sqlite postgres"),
# BENCH_PG_URL (postgres://postgres@127.0.0.1:5432), BENCH_PORT (18082).
set -euo pipefail

QUERY=${QUERY:-bench/queries/stats.graphql}
PERSONS=${PERSONS:-250000}
REPEAT=${REPEAT:-200}
DATABASES=${DATABASES:-sqlite postgres}
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-18082}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
DATA=$BENCH/data
GRIDHUB=${CARGO_TARGET_DIR:-$ROOT/target}/release/gridhub
SECRET=bench-stats-secret
SERVER_PID=

log() { printf '[bench-stats %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

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
    log "building gridhub (release)"
    (cd "$ROOT" && cargo build --release -p gridhub)
    # The built-in roles without their request-rate limits: the benchmark measures cost, not limits.
    grep -v 'requests_per_minute' "$ROOT/src/access/policy.toml" > "$DATA/policy-unlimited.toml"
}

# The database URL for `$1`, seeded with PERSONS persons (once).
dataset() {
    case $1 in
    sqlite)
        local db=$DATA/stats-$PERSONS.db
        if [ "$(cat "$db.seeded" 2>/dev/null)" != "$PERSONS" ]; then
            rm -f "$db" "$db-wal" "$db-shm"
            log "seeding $PERSONS persons on SQLite"
            "$GRIDHUB" seed --persons "$PERSONS" --database "sqlite://$db?mode=rwc" >&2
            echo "$PERSONS" > "$db.seeded"
        fi
        echo "sqlite://$db?mode=rwc" ;;
    postgres)
        local name=gridhub_stats_$PERSONS
        if [ "$(psql "$PG/postgres" -Atc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$name'")" != "seeded $PERSONS" ]; then
            psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >&2
            log "seeding $PERSONS persons on PostgreSQL"
            "$GRIDHUB" seed --persons "$PERSONS" --database "$PG/$name" >&2
            psql "$PG/postgres" -qc "COMMENT ON DATABASE $name IS 'seeded $PERSONS'" >&2
        fi
        psql "$PG/$name" -qc "ANALYZE" >&2
        echo "$PG/$name" ;;
    esac
}

district() {
    case $1 in
    sqlite*) python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT code FROM grids WHERE level = 'district'\").fetchone()[0])" "${1#sqlite://}" | sed 's/?mode=rwc//' ;;
    *) psql "$1" -Atc "SELECT code FROM grids WHERE level = 'district'" ;;
    esac
}

measure() {
    local database=$1 url code jwt
    url=$(dataset "$database")
    code=$(district "${url%\?mode=rwc}")
    RUST_LOG=warn "$GRIDHUB" serve --listen "127.0.0.1:$PORT" --database "$url" >"$DATA/stats-server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
    jwt=$("$GRIDHUB" token issue --subject bench-screen --role command_centre --expires-in 86400 --grid "$code")
    python3 - "$PORT" "$jwt" "$code" "$ROOT/$QUERY" "$REPEAT" "$database" "$PERSONS" <<'PY'
import http.client, json, statistics, sys, time
port, jwt, code, path, repeat, database, persons = sys.argv[1:]
body = json.dumps({"query": open(path).read(), "variables": {"code": code}})
headers = {"Content-Type": "application/json", "Authorization": f"Bearer {jwt}"}
conn = http.client.HTTPConnection("127.0.0.1", int(port))
def once():
    start = time.perf_counter()
    conn.request("POST", "/graphql", body, headers)
    reply = json.loads(conn.getresponse().read())
    elapsed = (time.perf_counter() - start) * 1000
    if "errors" in reply:
        sys.exit(f"errors: {reply['errors']}")
    return elapsed, reply
for _ in range(20):
    _, reply = once()
times = sorted(once()[0] for _ in range(int(repeat)))
q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
stats = reply["data"]["grid"]["stats"]
events = sum(e["count"] or 0 for e in stats.get("eventsByStatus", []))
print(f"{database} {persons} persons, district {code}: {events or 'uncounted'} events, "
      f"{stats['population']} population; {repeat} requests: "
      f"p50 {q(0.50):.1f} ms, p95 {q(0.95):.1f} ms, p99 {q(0.99):.1f} ms, max {times[-1]:.1f} ms")
PY
    stop_server
}

main() {
    prepare
    for database in $DATABASES; do
        measure "$database"
    done
}

main "$@"
