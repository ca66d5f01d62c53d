#!/usr/bin/env bash
# Import throughput: writes ROWS police person rows (bench/ingest_data.py, valid ID numbers, ~0.5%
# dirty rows, grid codes of the hub) and imports them with `gridhub import` into a hub seeded with
# a small district, with identity resolution on, on each database of DATABASES: first a tenth of the
# file, then all of it, each into a fresh hub, printing rows/s and the importer's peak resident
# memory (/usr/bin/time); equal peaks show that the file is streamed, not loaded. Datasets and databases live under bench/data and are made anew on every run.
#
# Environment: ROWS (1000000), DATABASES ("sqlite postgres"),
# BENCH_PG_URL (postgres://postgres@127.0.0.1:5432).
set -euo pipefail

ROWS=${ROWS:-1000000}
DATABASES=${DATABASES:-"sqlite postgres"}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=$ROOT/bench/data
GRIDHUB=$ROOT/target/release/gridhub
export GRIDHUB__SEED__PERSONS_ON_FIRST_START=0

log() { printf '[bench-ingest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

database_url() {
    case $1 in
        sqlite) echo "sqlite://$DATA/ingest.db?mode=rwc" ;;
        postgres) echo "$PG_URL/gridhub_bench_ingest" ;;
    esac
}

fresh_database() {
    case $1 in
        sqlite) rm -f "$DATA/ingest.db" "$DATA/ingest.db-wal" "$DATA/ingest.db-shm" ;;
        postgres)
            psql -q -d "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS gridhub_bench_ingest WITH (FORCE)"
            psql -q -d "$PG_URL/postgres" -c "CREATE DATABASE gridhub_bench_ingest" ;;
    esac
    "$GRIDHUB" seed --persons 10000 --database "$(database_url "$1")" >/dev/null
}

grid_codes() {
    case $1 in
        sqlite) python3 -c "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(\"SELECT code FROM grids WHERE level IN ('grid','micro_grid')\")]" "$DATA/ingest.db" ;;
        postgres) psql -qtA -d "$(database_url postgres)" -c "SELECT code FROM grids WHERE level IN ('grid','micro_grid')" ;;
    esac
}

# Imports FILE into DB and prints rows/s and the importer's peak resident memory.
import_file() {
    local db=$1 file=$2 rows=$3 started ended
    started=$(date +%s.%N)
    /usr/bin/time -f 'peak RSS %M kB' -o "$DATA/ingest-time.txt" "$GRIDHUB" import --department police \
        --file "$file" --database "$(database_url "$db")" 2>/dev/null > "$DATA/ingest-summary.txt"
    ended=$(date +%s.%N)
    head -n 1 "$DATA/ingest-summary.txt"
    python3 -c "import sys; r=int(sys.argv[1]); s=float(sys.argv[3])-float(sys.argv[2]); print(f'{sys.argv[4]}: {r:,} rows in {s:.1f} s: {r/s:,.0f} rows/s')" "$rows" "$started" "$ended" "$db"
    cat "$DATA/ingest-time.txt"
}

main() {
    mkdir -p "$DATA"
    log "building gridhub (release)"
    (cd "$ROOT" && cargo build --release -p gridhub)
    for db in $DATABASES; do
        log "$db: seeding a district of 10,000 persons for its grids"
        fresh_database "$db"
        grid_codes "$db" > "$DATA/ingest-grids.txt"
        log "writing $ROWS police person rows"
        python3 "$ROOT/bench/ingest_data.py" --rows "$ROWS" --out "$DATA/ingest-persons.csv" --grids "$DATA/ingest-grids.txt"
        head -n $(( ROWS / 10 + 1 )) "$DATA/ingest-persons.csv" > "$DATA/ingest-persons-tenth.csv"
        log "$db: importing a tenth ($(( ROWS / 10 )) rows), to compare memory"
        import_file "$db" "$DATA/ingest-persons-tenth.csv" $(( ROWS / 10 ))
        fresh_database "$db"
        log "$db: importing $ROWS rows"
        import_file "$db" "$DATA/ingest-persons.csv" "$ROWS"
    done
}

main "$@"
