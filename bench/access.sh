#!/usr/bin/env bash
# Cost of access control on the read path: the person-card query (bench/queries/a.graphql) as a
# grid worker scoped to one grid against the same query as a district admin, on the same persons
# (all inside the worker's grid), both with a purpose and a case reference, so both read
# sensitive fields in full and are audited. Prints requests/s and latency per principal and the
# ratio. SQLite, release build; the dataset is seeded once under bench/data.
#
# Environment: PERSONS (100000), DURATION seconds per measurement (10), BENCH_PORT (18081).
set -euo pipefail

PERSONS=${PERSONS:-100000}
DURATION=${DURATION:-10}
PORT=${BENCH_PORT:-18081}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
DATA=$BENCH/data
GRIDHUB=$ROOT/target/release/gridhub
DB=$DATA/access-$PERSONS.db
URL="sqlite://$DB?mode=rwc"
SECRET=bench-access-secret
SERVER_PID=

log() { printf '[bench-access %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

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
    command -v wrk >/dev/null || apt-get install -y wrk >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    log "building gridhub (release)"
    (cd "$ROOT" && cargo build --release -p gridhub)
    # The built-in roles without their request-rate limits: the benchmark measures cost, not limits.
    grep -v 'requests_per_minute' "$ROOT/src/access/policy.toml" > "$DATA/policy-unlimited.toml"
    if [ "$(cat "$DB.seeded" 2>/dev/null)" != "$PERSONS" ]; then
        rm -f "$DB" "$DB-wal" "$DB-shm"
        log "seeding $PERSONS persons"
        "$GRIDHUB" seed --persons "$PERSONS" --database "$URL"
        echo "$PERSONS" > "$DB.seeded"
    fi
}

# The grid (level `grid`) with most persons in its subtree, and the ID numbers of up to 500 of them.
sample() {
    python3 - "$DB" "$DATA/access-sample.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
code, grid_id = db.execute(
    "SELECT g.code, g.id FROM grids g JOIN grid_closure c ON c.ancestor_id = g.id "
    "JOIN persons p ON p.grid_id = c.descendant_id WHERE g.level = 'grid' "
    "GROUP BY g.id ORDER BY count(*) DESC LIMIT 1").fetchone()
numbers = [r[0] for r in db.execute(
    "SELECT p.id_number FROM persons p JOIN grid_closure c ON c.descendant_id = p.grid_id "
    "WHERE c.ancestor_id = ? ORDER BY p.id LIMIT 500", (grid_id,))]
json.dump({"grid": code, "id_numbers": numbers, "communities": [], "streets": [],
           "name_prefixes": [], "nested_grids": []}, open(sys.argv[2], "w"))
print(code, len(numbers))
PY
}

token() {
    "$GRIDHUB" token issue --subject "$1" --role "$2" --expires-in 86400 ${3:+--grid "$3"}
}

measure() {
    local who=$1 jwt=$2 c=$3 threads=$(( $3 < 2 ? 1 : 2 ))
    BENCH_BODIES="$DATA/access-bodies.lua" \
    BENCH_HEADERS="Authorization=Bearer $jwt;X-Purpose=data_quality;X-Case-Id=BENCH-1" \
        wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency \
        -s "$BENCH/lib/graphql.lua" "http://127.0.0.1:$PORT" | sed -n "s/^BENCH /$who c=$c /p"
}

main() {
    prepare
    read -r grid count < <(sample)
    log "grid worker scoped to $grid; $count persons in the rotation"
    python3 "$BENCH/lib/bodies.py" "$DATA/access-sample.json" a "$BENCH/queries/a.graphql" "$DATA/access-bodies.lua"
    RUST_LOG=warn "$GRIDHUB" serve --listen "127.0.0.1:$PORT" --database "$URL" >"$DATA/access-server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
    local admin worker
    admin=$(token bench-admin admin)
    worker=$(token bench-worker grid_worker "$grid")
    for c in 1 32; do
        measure admin "$admin" "$c"
        measure grid_worker "$worker" "$c"
    done | tee "$DATA/access-results.txt"
    python3 - "$DATA/access-results.txt" <<'PY'
import json, re, sys
rows = {}
for line in open(sys.argv[1]):
    who, c, body = re.match(r"(\S+) c=(\d+) (.*)", line).groups()
    r = json.loads(body)
    rows[(who, c)] = (r["requests"] / (r["duration_us"] / 1e6), r["p50_ms"], r["p99_ms"],
                      r["non2xx"] + r["graphql_errors"])
for c in ("1", "32"):
    a, w = rows[("admin", c)], rows[("grid_worker", c)]
    print(f"c={c}: admin {a[0]:.0f} req/s p50 {a[1]:.2f} ms p99 {a[2]:.2f} ms errors {a[3]}; "
          f"grid worker {w[0]:.0f} req/s p50 {w[1]:.2f} ms p99 {w[2]:.2f} ms errors {w[3]}; "
          f"cost ratio (admin req/s / worker req/s) {a[0] / w[0]:.2f}, p50 ratio {w[1] / a[1]:.2f}")
PY
}

main "$@"
