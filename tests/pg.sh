#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests marked `postgres`.
#
#   bash tests/pg.sh start   install PostgreSQL if needed (apt, as root), init and start the server
#                            on 127.0.0.1:$PORT, create the test role and database; idempotent
#   bash tests/pg.sh stop    stop it (the data folder stays for the next start)
#   bash tests/pg.sh url     print its SQLAlchemy URL (postgresql+psycopg2://...)
#   bash tests/pg.sh status  exit 0 when it accepts connections
#
# The server runs as an unprivileged user (the `postgres` system user when started by root) with its
# data in $MDM_TEST_PG_DIR (default: a folder in /tmp, so that the user can reach it whatever the
# permissions of the checkout). Local socket connections are trusted (used only to set up the role);
# TCP connections need the test role's password, so tests can also check wrong credentials.
set -euo pipefail

PORT="${MDM_TEST_PG_PORT:-54329}"
DIR="${MDM_TEST_PG_DIR:-${TMPDIR:-/tmp}/mdm-test-pg-$PORT}"
DATA="$DIR/data"
SOCK="$DIR/sock"
LOG="$DIR/server.log"
ROLE=mdm_test
PASSWORD=mdm_test_pw
DB=mdm_test
URL="postgresql+psycopg2://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"

die() { echo "pg.sh: $*" >&2; exit 1; }

# The folder with initdb/pg_ctl/pg_isready/psql: PATH first, then the newest Debian install.
find_bin() {
    local p
    if p="$(command -v pg_ctl 2>/dev/null)" && [ -x "$(dirname "$(readlink -f "$p")")/initdb" ]; then
        dirname "$(readlink -f "$p")"
        return 0
    fi
    p="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$p" ] && [ -x "$p/initdb" ] && [ -x "$p/pg_ctl" ] && { echo "$p"; return 0; }
    return 1
}

ensure_installed() {
    BIN="$(find_bin)" && return 0
    [ "$(id -u)" -eq 0 ] || die "PostgreSQL (initdb, pg_ctl) not found and not root: install the 'postgresql' package"
    echo "pg.sh: installing PostgreSQL with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    BIN="$(find_bin)" || die "PostgreSQL installed but initdb/pg_ctl not found under /usr/lib/postgresql/*/bin"
}

# Run a command as the server's user: `postgres` when we are root, ourselves otherwise.
as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

ready() {
    [ -n "${BIN:-}" ] || BIN="$(find_bin)" || return 1
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -t 2
}

psql_admin() {
    as_server_user "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d postgres "$@"
}

start() {
    ensure_installed
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
    chmod 700 "$DIR"
    if ! ready; then
        if [ ! -s "$DATA/PG_VERSION" ]; then
            as_server_user "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C \
                --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 \
                || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
        fi
        as_server_user mkdir -p "$SOCK"
        as_server_user "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start \
            -o "-p $PORT -c listen_addresses=127.0.0.1 -k $SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            >/dev/null || { tail -n 20 "$LOG" >&2 || true; die "the server did not start (log: $LOG)"; }
    fi
    for _ in $(seq 1 60); do
        ready && break
        sleep 1
    done
    ready || die "the server does not accept connections on 127.0.0.1:$PORT (log: $LOG)"
    psql_admin <<SQL
SELECT 'CREATE ROLE $ROLE LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') \gexec
ALTER ROLE $ROLE WITH LOGIN PASSWORD '$PASSWORD';
SELECT 'CREATE DATABASE $DB OWNER $ROLE' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB') \gexec
SQL
    echo "pg.sh: PostgreSQL ready at $(url_redacted)" >&2
}

stop() {
    BIN="$(find_bin)" || { echo "pg.sh: PostgreSQL not installed, nothing to stop" >&2; return 0; }
    if [ -s "$DATA/PG_VERSION" ] && as_server_user "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        as_server_user "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
        echo "pg.sh: stopped" >&2
    else
        echo "pg.sh: not running" >&2
    fi
}

url_redacted() { echo "${URL/:$PASSWORD@/:***@}"; }

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) echo "$URL" ;;
    status) ready ;;
    *) die "usage: bash tests/pg.sh start|stop|url|status" ;;
esac
