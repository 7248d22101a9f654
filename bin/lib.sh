# shellcheck shell=bash disable=SC2034  # (variables used by the sourcing scripts)
# Shared helpers for the scripts in bin/ (sourced, never executed).
#
# Everything the embedded default creates lives under var/ (gitignored):
#   var/pg            private PostgreSQL cluster (owned by the `postgres` OS user when run as root)
#   var/redis         Redis working directory (dump.rdb)
#   var/run           PID files (and var/run/pg, the PostgreSQL unix socket directory)
#   var/log           logs of every process we start
#   var/secrets       generated secrets: SECRET_KEY, admin password, API token
#   var/stamps        stamps that make a second `make run` quick
#   var/storage       CKAN file uploads (var/test-storage for the tests)
#   var/ckan.ini      generated from config/ckan.ini.template

set -euo pipefail

# CKAN lets these environment variables override its ini file
# (ckan/config/environment.py); the embedded default takes every setting from
# var/ckan.ini or config/test.ini, so a stray value in the caller's shell must
# not send it to another database.
unset CKAN_INI CKAN_SQLALCHEMY_URL CKAN_DATASTORE_WRITE_URL CKAN_DATASTORE_READ_URL \
      CKAN_REDIS_URL CKAN_SOLR_URL CKAN_SOLR_USER CKAN_SOLR_PASSWORD CKAN_SITE_ID \
      CKAN_SITE_URL CKAN_STORAGE_PATH

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$ROOT/var"
RUN_DIR="$VAR/run"
LOG_DIR="$VAR/log"
SECRETS_DIR="$VAR/secrets"
STAMPS_DIR="$VAR/stamps"
PG_DATA="${PG_DATA:-$VAR/pg}"   # a second cluster (tests/workflow/test_backup.py) sets its own
PG_SOCKET_DIR="$RUN_DIR/pg"
PG_LOG="$LOG_DIR/postgresql.log"
REDIS_DIR="$VAR/redis"
REDIS_CONF="$VAR/redis.conf"
REDIS_PID="$RUN_DIR/redis.pid"
REDIS_LOG="$LOG_DIR/redis.log"
VENV="$ROOT/.venv"
CKAN_INI="$VAR/ckan.ini"
TEST_INI="$ROOT/config/test.ini"
PYTHON="${PYTHON:-python3}"

# Search backend of `make run`: pg (default: the binhphuoc_pgsearch plugin, no Java)
# or solr (Apache Solr 9 from Maven Central, bin/services start solr; docs/search.md).
SEARCH="${SEARCH:-pg}"
case "$SEARCH" in
    pg|solr) ;;
    *) printf 'ERROR: SEARCH must be pg or solr (got %s)\n' "$SEARCH" >&2; exit 1 ;;
esac

# PostgreSQL superuser of the private cluster (trust auth on 127.0.0.1 only).
PG_SUPERUSER=postgres
# PostgreSQL's shared buffer cache. The search index's query table (~370 MB at
# 100,000 datasets) must fit in a quarter of it, or every full scan reads it
# again from the OS cache (PostgreSQL's ring buffer for large tables); 2GB
# suits a 16-32 GB server. Override with the environment variable.
PG_SHARED_BUFFERS="${PG_SHARED_BUFFERS:-2GB}"

# --- ports: environment variables win over config/ports.env ------------------
_load_ports() {
    local v
    local -A from_env=()
    for v in PG_PORT REDIS_PORT CKAN_PORT SMTP_PORT SOLR_PORT OIDC_PORT; do
        if [ -n "${!v:-}" ]; then from_env[$v]="${!v}"; fi
    done
    # shellcheck disable=SC1091
    . "$ROOT/config/ports.env"
    for v in "${!from_env[@]}"; do printf -v "$v" '%s' "${from_env[$v]}"; done
    for v in PG_PORT REDIS_PORT CKAN_PORT SMTP_PORT SOLR_PORT OIDC_PORT; do
        case "${!v:-}" in
            ''|*[!0-9]*) die "$v must be a port number (got '${!v:-}'); see config/ports.env" ;;
        esac
        export "${v?}"
    done
}

# --- messages ------------------------------------------------------------------
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    _B=$'\033[1m'; _G=$'\033[32m'; _Y=$'\033[33m'; _R=$'\033[31m'; _N=$'\033[0m'
else
    _B=; _G=; _Y=; _R=; _N=
fi
say()  { printf '%s==>%s %s\n' "$_B$_G" "$_N" "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '%sWARNING:%s %s\n' "$_B$_Y" "$_N" "$*" >&2; }
die()  { printf '%sERROR:%s %s\n' "$_B$_R" "$_N" "$*" >&2; exit 1; }

_load_ports

is_root() { [ "$(id -u)" = 0 ]; }

# Run a command as the OS user that owns the PostgreSQL cluster.
# PostgreSQL refuses to run as root, so as root we use the `postgres` account
# created by the Debian package; otherwise the cluster belongs to the caller.
as_pg() {
    if is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Directory of the PostgreSQL server binaries (initdb, pg_ctl, postgres).
pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$d" ] && [ -x "$d/initdb" ] || die "PostgreSQL server binaries not found (expected /usr/lib/postgresql/<version>/bin); run 'make setup' or set PG_BIN"
    echo "$d"
}

# psql as the cluster superuser over loopback TCP: psql_su DBNAME [psql args...]
psql_su() {
    local db="$1"; shift
    PGCONNECT_TIMEOUT=5 PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" -d "$db" "$@"
}

# One value from a query (empty when no row): sql_value DBNAME "SELECT ..."
sql_value() {
    psql_su "$1" -At -c "$2"
}

# --- ports and processes ---------------------------------------------------------

# True when something already listens on 127.0.0.1:PORT (or on all addresses).
port_busy() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", port))
except OSError:
    sys.exit(0)      # busy
finally:
    s.close()
sys.exit(1)          # free
EOF
}

# Who holds a port, when the system tells us (best effort, for messages only).
port_holder() {
    if command -v ss >/dev/null 2>&1; then
        ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))$/\1/p' | head -n 1
    fi
}

# Fail with a clear message when PORT (named by VARNAME) is taken by a process
# that is not ours.
require_free_port() {
    local port="$1" varname="$2" what="$3" holder
    if port_busy "$port"; then
        holder="$(port_holder "$port")"
        die "port $port ($varname, for $what) on 127.0.0.1 is already in use${holder:+ by $holder}, and not by a process this project started.
       Stop that program, or choose another port for this project, e.g.:
           $varname=$((port + 1)) make run      (use the same setting for make test)
       or change $varname in config/ports.env."
    fi
}

# PID from a pid file if that process is alive and its command line contains
# MARKER (guards against a stale pid file whose number was reused).
pid_of() {
    local pidfile="$1" marker="$2" pid
    [ -f "$pidfile" ] || return 1
    pid="$(head -n 1 "$pidfile" 2>/dev/null | tr -dc '0-9')"
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker" || return 1
    echo "$pid"
}

# Stop the process (group) whose PID is in PIDFILE, if it is ours; wait for it.
stop_pidfile() {
    local pidfile="$1" marker="$2" name="$3" pid i
    if ! pid="$(pid_of "$pidfile" "$marker")"; then
        rm -f "$pidfile"
        return 0
    fi
    info "stopping $name (pid $pid)"
    # Our background processes are started with setsid: the PID is also the
    # process-group id, so children (e.g. RQ work-horses) stop with them.
    if [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then
        kill -TERM -- "-$pid" 2>/dev/null || true
    else
        kill -TERM "$pid" 2>/dev/null || true
    fi
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "$name (pid $pid) did not stop after 20s; sending SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# --- PostgreSQL / Redis state ------------------------------------------------------

pg_running() {
    [ -f "$PG_DATA/PG_VERSION" ] || return 1
    as_pg "$(pg_bin)/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

# Port the running cluster listens on (4th line of postmaster.pid).
pg_running_port() {
    as_pg sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

redis_running() {
    pid_of "$REDIS_PID" "redis-server" >/dev/null
}

# --- misc --------------------------------------------------------------------------

# sha256 of the given files' contents (missing files count as empty).
hash_files() {
    local f
    for f in "$@"; do
        printf '%s\n' "$f"
        [ -f "$f" ] && cat "$f"
    done | sha256sum | cut -d' ' -f1
}

stamp_matches() { [ -f "$STAMPS_DIR/$1" ] && [ "$(cat "$STAMPS_DIR/$1")" = "$2" ]; }
write_stamp()   { mkdir -p "$STAMPS_DIR"; printf '%s\n' "$2" >"$STAMPS_DIR/$1"; }

ensure_var_dirs() {
    mkdir -p "$VAR" "$RUN_DIR" "$LOG_DIR" "$STAMPS_DIR" "$REDIS_DIR" "$VAR/storage" "$VAR/test-storage"
    mkdir -p "$SECRETS_DIR"
    chmod 700 "$SECRETS_DIR"
}

require_venv() {
    [ -x "$VENV/bin/ckan" ] || die "the virtualenv .venv is missing; run 'make setup' (or 'make run') first"
}
