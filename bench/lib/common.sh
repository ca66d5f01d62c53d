# Shell functions the benchmark scripts share: logging, the tools they need, PostgreSQL, and one
# release `gridhub serve` at a time. Source it after setting BENCH_NAME, GRIDHUB and PORT.

SERVER_PID=

log() { printf '[%s %s] %s\n' "$BENCH_NAME" "$(date +%H:%M:%S)" "$*" >&2; }

install_wrk() {
    command -v wrk >/dev/null && return
    log "installing wrk"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
}

# Starts PostgreSQL at the server of the URL $1 (without a database) when it is not running.
ensure_postgres() {
    pg_isready -q -d "$1/postgres" && return
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 30); do pg_isready -q -d "$1/postgres" && return; sleep 1; done
    log "PostgreSQL did not become ready"; exit 1
}

# Serves the database URL $1 on PORT in the background, its output in the file $2, and waits
# until it is ready.
start_server() {
    RUST_LOG=warn "$GRIDHUB" serve --listen "127.0.0.1:$PORT" --database "$1" >"$2" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 240); do
        curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return
        kill -0 "$SERVER_PID" 2>/dev/null || { log "gridhub serve stopped: see $2"; exit 1; }
        sleep 0.5
    done
    log "gridhub serve did not become ready: see $2"; exit 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
