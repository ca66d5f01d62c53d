#!/usr/bin/env bash
# Cost of access control on the read path: the person card by global id
# (bench/queries/card.graphql: the fields of query a, through `node(id:)`, since a grid worker may
# not look persons up by ID number) as a grid worker scoped to one grid against the same query as
# a district admin, on the same persons (all inside the worker's grid), both with a purpose and a
# case reference: the admin reads the ID number in full and is audited, the grid worker reads it
# masked and its phone in full, audited. Prints requests/s and latency per principal and the
# ratio, per database. Release build; each dataset is seeded once (a SQLite file under
# bench/data, a PostgreSQL database).
#
# Environment: PERSONS (100000), DURATION seconds per measurement (10), DATABASES
# ("sqlite postgres"), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432), BENCH_PORT (18081).
set -euo pipefail

PERSONS=${PERSONS:-100000}
DURATION=${DURATION:-10}
DATABASES=${DATABASES:-"sqlite postgres"}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-18081}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
DATA=$BENCH/data
GRIDHUB=${CARGO_TARGET_DIR:-$ROOT/target}/release/gridhub
BENCH_NAME=bench-access
SECRET=bench-access-secret
# shellcheck source=lib/common.sh
. "$BENCH/lib/common.sh"
trap stop_server EXIT

export GRIDHUB__AUTH__REQUIRED=true GRIDHUB__AUTH__JWT_HS256_SECRET=$SECRET
export GRIDHUB__ACCESS__POLICY_FILE=$DATA/policy-unlimited.toml GRIDHUB__SEED__PERSONS_ON_FIRST_START=0

database_url() {
    case $1 in
        sqlite) echo "sqlite://$DATA/access-$PERSONS.db?mode=rwc" ;;
        postgres) echo "$PG_URL/gridhub_bench_access_$PERSONS" ;;
        *) log "unknown database '$1' (sqlite or postgres)"; exit 1 ;;
    esac
}

# Runs the SQL $2 on the database $1; one row per line, columns separated by a space.
sql() {
    case $1 in
        sqlite) sqlite3 -separator ' ' "$DATA/access-$PERSONS.db" "$2" ;;
        postgres) psql -qtA -F ' ' -d "$(database_url postgres)" -c "$2" ;;
    esac
}

seeded_marker() { echo "$DATA/access-$PERSONS.$1.seeded"; }

prepare() {
    mkdir -p "$DATA"
    install_wrk
    log "building gridhub (release)"
    (cd "$ROOT" && cargo build --release -p gridhub)
    # The built-in roles without their request rate and with lookup budgets no benchmark reaches:
    # the benchmark measures the cost of the checks, not the limits.
    sed -E 's/^limits = \{.*\}$/limits = { lookups_per_request = 20, lookups_per_hour = 1000000000 }/' \
        "$ROOT/src/access/policy.toml" > "$DATA/policy-unlimited.toml"
}

seed() {
    [ "$(cat "$(seeded_marker "$1")" 2>/dev/null)" = "$PERSONS" ] && return
    case $1 in
        sqlite) rm -f "$DATA/access-$PERSONS.db" "$DATA/access-$PERSONS.db-wal" "$DATA/access-$PERSONS.db-shm" ;;
        postgres)
            ensure_postgres "$PG_URL"
            psql -q -d "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS gridhub_bench_access_$PERSONS WITH (FORCE)"
            psql -q -d "$PG_URL/postgres" -c "CREATE DATABASE gridhub_bench_access_$PERSONS" ;;
    esac
    log "seeding $PERSONS persons on $1"
    "$GRIDHUB" seed --persons "$PERSONS" --database "$(database_url "$1")" >&2
    echo "$PERSONS" > "$(seeded_marker "$1")"
}

# The grid (level `grid`) with most persons in its subtree, and the global ids of up to 500 of
# them, as the parameter file of bench/lib/bodies.py.
sample() {
    local grid numbers
    grid=$(sql "$1" "SELECT g.code FROM grids g JOIN grid_closure c ON c.ancestor_id = g.id \
        JOIN persons p ON p.grid_id = c.descendant_id WHERE g.level = 'grid' \
        GROUP BY g.id, g.code ORDER BY count(*) DESC, g.code LIMIT 1")
    numbers=$(sql "$1" "SELECT p.id FROM persons p JOIN grid_closure c ON c.descendant_id = p.grid_id \
        JOIN grids g ON g.id = c.ancestor_id WHERE g.code = '$grid' ORDER BY p.id LIMIT 500")
    python3 -c '
import base64, json, sys
ids = [base64.urlsafe_b64encode(f"Person:{n}".encode()).decode().rstrip("=") for n in sys.argv[2].split()]
json.dump({"grid": sys.argv[1], "person_ids": ids}, open(sys.argv[3], "w"))
' "$grid" "$numbers" "$DATA/access-sample.json"
    echo "$grid $(wc -l <<<"$numbers")"
}

# A day's token for subject $2 with role $3 (and grid $4), checked against the database $1.
token() {
    "$GRIDHUB" token issue --database "$(database_url "$1")" --subject "$2" --role "$3" \
        --expires-in 86400 ${4:+--grid "$4"}
}

measure() {
    local who=$1 jwt=$2 c=$3 threads=$(( $3 < 2 ? 1 : 2 ))
    BENCH_BODIES="$DATA/access-bodies.lua" \
    BENCH_HEADERS="Authorization=Bearer $jwt;X-Purpose=data_quality;X-Case-Id=BENCH-ACCESS-1" \
        wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency \
        -s "$BENCH/lib/graphql.lua" "http://127.0.0.1:$PORT" | sed -n "s/^BENCH /$who c=$c /p"
}

report() {
    python3 - "$1" "$2" <<'PY'
import json, re, sys
rows = {}
for line in open(sys.argv[2]):
    who, c, body = re.match(r"(\S+) c=(\d+) (.*)", line).groups()
    r = json.loads(body)
    rows[(who, c)] = (r["requests"] / (r["duration_us"] / 1e6), r["p50_ms"], r["p99_ms"],
                      r["non2xx"] + r["graphql_errors"])
for c in ("1", "32"):
    a, w = rows[("admin", c)], rows[("grid_worker", c)]
    print(f"{sys.argv[1]} c={c}: admin {a[0]:.0f} req/s p50 {a[1]:.2f} ms p99 {a[2]:.2f} ms errors {a[3]}; "
          f"grid worker {w[0]:.0f} req/s p50 {w[1]:.2f} ms p99 {w[2]:.2f} ms errors {w[3]}; "
          f"cost ratio (admin req/s / worker req/s) {a[0] / w[0]:.2f}, p50 ratio {w[1] / a[1]:.2f}")
PY
}

run_on() {
    local db=$1 grid count admin worker results=$DATA/access-results-$1.txt
    seed "$db"
    read -r grid count < <(sample "$db")
    log "$db: grid worker scoped to $grid; $count persons in the rotation"
    python3 "$BENCH/lib/bodies.py" "$DATA/access-sample.json" card "$BENCH/queries/card.graphql" "$DATA/access-bodies.lua"
    start_server "$(database_url "$db")" "$DATA/access-server-$db.log"
    admin=$(token "$db" bench-admin admin)
    worker=$(token "$db" bench-worker grid_worker "$grid")
    for c in 1 32; do
        measure admin "$admin" "$c"
        measure grid_worker "$worker" "$c"
    done > "$results"
    stop_server
    report "$db" "$results"
}

main() {
    prepare
    for db in $DATABASES; do run_on "$db"; done
}

main "$@"
