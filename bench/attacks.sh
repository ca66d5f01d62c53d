#!/usr/bin/env bash
# Bounded work under attack: a release hub on SQLite with the demo street, a simple query timed
# one after another throughout while the alias probe (1,000 × deadlineCompliance), the batch
# probe (100 heavy queries), the fragment-bomb probe (1.6 KB of nested fragments) and the
# long-line probe (one 32 MiB NDJSON line on /ingest) are fired at it, each ROUNDS times. Prints
# the server's peak RSS (VmHWM) and the simple query's p50/p99 in ms. Targets: peak RSS under
# 300 MB, p99 under 200 ms.
#
# Environment: PERSONS (5000), ROUNDS (5), BENCH_PORT (18084).
set -euo pipefail

PERSONS=${PERSONS:-5000}
ROUNDS=${ROUNDS:-5}
PORT=${BENCH_PORT:-18084}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=$ROOT/bench/data
GRIDHUB=${CARGO_TARGET_DIR:-$ROOT/target}/release/gridhub
SECRET=bench-attacks-secret
BENCH_NAME=bench-attacks
# shellcheck source=lib/common.sh
. "$ROOT/bench/lib/common.sh"
trap stop_server EXIT

export GRIDHUB__AUTH__REQUIRED=true GRIDHUB__AUTH__JWT_HS256_SECRET=$SECRET
export GRIDHUB__ACCESS__PRODUCTION=true GRIDHUB__SEED__PERSONS_ON_FIRST_START=0

main() {
    mkdir -p "$DATA"
    log "building gridhub (release)"
    (cd "$ROOT" && cargo build --release -p gridhub)
    local db=$DATA/attacks-$PERSONS.db
    if [ "$(cat "$db.seeded" 2>/dev/null)" != "$PERSONS" ]; then
        rm -f "$db" "$db-wal" "$db-shm"
        log "seeding $PERSONS persons"
        "$GRIDHUB" seed --persons "$PERSONS" --database "sqlite://$db?mode=rwc" >&2
        echo "$PERSONS" > "$db.seeded"
    fi
    start_server "sqlite://$db?mode=rwc" "$DATA/attacks-server.log"
    local admin police
    admin=$("$GRIDHUB" token issue --subject bench-attacker --role admin --expires-in 86400)
    police=$("$GRIDHUB" token issue --subject bench-police --role department --department police --expires-in 86400)
    log "probing, $ROUNDS rounds"
    python3 - "$PORT" "$admin" "$police" "$ROUNDS" "$SERVER_PID" <<'PY'
import http.client, json, sys, threading, time
port, admin, police, rounds, pid = sys.argv[1:]
port, rounds = int(port), int(rounds)

def post(path, body, token, content_type="application/json"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, body, {"Content-Type": content_type, "Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status

def graphql(query):
    return json.dumps(query if isinstance(query, list) else {"query": query})

aliases = "{ grids(first: 1) { nodes { stats { %s } } } }" % " ".join(
    f"c{i}: deadlineCompliance" for i in range(1000))
heavy = {"query": "{ grids(first: 100) { nodes { stats { deadlineCompliance eventsPerDay(days: 366) eventsByStatus { count } } } } }"}
bomb = "query { grids(first: 1) { nodes { ...F0 } } }\n" + "".join(
    f"fragment F{i} on Grid {{ code ...F{i + 1} ...F{i + 1} ...F{i + 1} }}\n" for i in range(30)
) + "fragment F30 on Grid { code }\n"
line = b'{"id_number": "' + b"9" * (32 << 20) + b'", "name": "x"}\n'
probes = [
    ("alias", lambda: post("/graphql", graphql(aliases), admin)),
    ("batch", lambda: post("/graphql", graphql([heavy] * 100), admin)),
    ("fragment bomb", lambda: post("/graphql", graphql(bomb), admin)),
    ("long line", lambda: post("/ingest/police?format=ndjson", line, police, "application/x-ndjson")),
]

done = threading.Event()
times = []
def simple():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = graphql("{ grids(first: 5) { nodes { code name } } }")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {admin}"}
    while not done.is_set():
        start = time.perf_counter()
        conn.request("POST", "/graphql", body, headers)
        conn.getresponse().read()
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
timer = threading.Thread(target=simple)
timer.start()
statuses = {}
for _ in range(rounds):
    threads = []
    for name, probe in probes:
        def run(name=name, probe=probe):
            statuses.setdefault(name, []).append(probe())
        thread = threading.Thread(target=run)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
done.set()
timer.join()
times.sort()
q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
hwm = next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM"))
print(f"probes (status per round): {statuses}")
print(f"simple query during the probes: {len(times)} requests, p50 {q(0.5):.1f} ms, "
      f"p99 {q(0.99):.1f} ms, max {times[-1]:.1f} ms")
print(f"server peak RSS (VmHWM): {int(hwm) / 1024:.0f} MB")
print(f"targets: peak RSS < 300 MB {'met' if int(hwm) < 300 * 1024 else 'missed'}, "
      f"p99 < 200 ms {'met' if q(0.99) < 200 else 'missed'}")
PY
    stop_server
}

main "$@"
