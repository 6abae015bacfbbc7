#!/usr/bin/env bash
# Start the production profile in the foreground: PostgreSQL, Redis-backed Celery, Swift
# storage and localcompute in swift mode (in-network: its copy job downloads inputs from Swift,
# its upload job pushes outputs back). Ctrl-C or SIGTERM stops every process it started.
#
#   utils/scripts/run-production.sh [PROCESS ...]
#
# PROCESS names Procfile entries (web, worker, beat, localcompute); the default is all four,
# or the space-separated list in CUBE_PROCESSES.
# PostgreSQL and Redis are started with this machine's commands if they are down, and are left
# running on exit. A local Swift (utils/scripts/swift-local.sh) is started unless one already
# answers at SWIFT_AUTH_URL, and is stopped on exit only if this script started it.
#
# Environment (defaults in brackets):
#   CUBE_VAR_DIR [<repo>/var/production]  logs, static files, beat schedule, Swift data
#   CUBE_PORT [8000]  LOCALCOMPUTE_PORT [30005]
#   CUBE_DB_NAME [cube_<hash of the var folder's path>],
#   DATABASE_URL [postgres://postgres@127.0.0.1:5432/$CUBE_DB_NAME]
#   CUBE_REDIS_DB [0], CELERY_BROKER_URL [redis://127.0.0.1:6379/$CUBE_REDIS_DB]
#   SWIFT_BASE [$CUBE_VAR_DIR/swift], SWIFT_PROXY_PORT [8080],
#   SWIFT_AUTH_URL [http://127.0.0.1:$SWIFT_PROXY_PORT/auth/v1.0], SWIFT_USERNAME
#   [chris:chris1234], SWIFT_KEY [testing], SWIFT_CONTAINER_NAME [users]
#   CUBE_PLUGINS_DIR [<repo>/var/plugins] (run `make plugins` first)
#   PG_START_CMD, REDIS_START_CMD: how to start them when down (utils/scripts/ensure-services.sh)
#
# The resolved environment is written to $CUBE_VAR_DIR/production.env (mode 0600), so other
# processes (a manage.py shell, an extra worker) can join the stack with
# `set -a; . production.env`. localcompute's login and token key are random per var dir, in
# $CUBE_VAR_DIR/localcompute.env (0600, created by utils/scripts/localcompute_credentials.py
# on first start, kept afterwards); a second localcompute sources that file too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

log() { printf 'run-production: %s\n' "$*" >&2; }

export CUBE_VAR_DIR="${CUBE_VAR_DIR:-$PWD/var/production}"
export CUBE_PORT="${CUBE_PORT:-8000}"
export LOCALCOMPUTE_PORT="${LOCALCOMPUTE_PORT:-30005}"
# One database per var folder: the database and the storage under it belong together.
CUBE_VAR_DIR="$(mkdir -p "$CUBE_VAR_DIR" && cd "$CUBE_VAR_DIR" && pwd)"
export CUBE_DB_NAME="${CUBE_DB_NAME:-cube_$(printf '%s' "$CUBE_VAR_DIR" | sha256sum | cut -c1-12)}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$CUBE_DB_NAME}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/${CUBE_REDIS_DB:-0}}"
export STORAGE_BACKEND=swift
export SWIFT_BASE="${SWIFT_BASE:-$CUBE_VAR_DIR/swift}"
export SWIFT_PROXY_PORT="${SWIFT_PROXY_PORT:-8080}"
export SWIFT_AUTH_URL="${SWIFT_AUTH_URL:-http://127.0.0.1:$SWIFT_PROXY_PORT/auth/v1.0}"
export SWIFT_USERNAME="${SWIFT_USERNAME:-chris:chris1234}"
export SWIFT_KEY="${SWIFT_KEY:-testing}"
export SWIFT_CONTAINER_NAME="${SWIFT_CONTAINER_NAME:-users}"
export CUBE_PLUGINS_DIR="${CUBE_PLUGINS_DIR:-$PWD/var/plugins}"
export COMPUTE_RESOURCE_URL="http://127.0.0.1:$LOCALCOMPUTE_PORT/api/v1/"
# localcompute shares CUBE's Swift container: copy jobs download inputs, upload jobs push
# outputs, so CUBE only lists and registers them.
export STORAGE_ENV=swift
export STOREBASE="$CUBE_VAR_DIR/localcompute/storebase"
export LOCALCOMPUTE_DATA_DIR="$CUBE_VAR_DIR/localcompute"
export LOCALCOMPUTE_PLUGINS="$CUBE_PLUGINS_DIR/catalogue.json"
# Only the filesystem broker uses it; kept out of the repo's var/ all the same.
export CELERY_BROKER_FOLDER="$CUBE_VAR_DIR/broker"

if [[ ! -s $LOCALCOMPUTE_PLUGINS ]]; then
    log "no plugin catalogue at $LOCALCOMPUTE_PLUGINS; run 'make plugins' first"
    exit 1
fi
mkdir -p "$CUBE_VAR_DIR" "$STOREBASE" "$LOCALCOMPUTE_DATA_DIR"
# localcompute's login and token key: random, created once (mode 0600) and kept across
# restarts. CUBE's compute resource "host" gets the same user and password (setup_compute).
.venv/bin/python utils/scripts/localcompute_credentials.py "$CUBE_VAR_DIR"
set -a
. "$CUBE_VAR_DIR/localcompute.env"
set +a
export COMPUTE_USER="$LOCALCOMPUTE_USER" COMPUTE_PASSWORD="$LOCALCOMPUTE_PASSWORD"

swift_ready() {
    .venv/bin/python - <<'PY'
import os, sys, urllib.request
request = urllib.request.Request(os.environ["SWIFT_AUTH_URL"], headers={
    "X-Auth-User": os.environ["SWIFT_USERNAME"], "X-Auth-Key": os.environ["SWIFT_KEY"]})
try:
    urllib.request.urlopen(request, timeout=3).close()
except OSError:
    sys.exit(1)
PY
}

utils/scripts/ensure-services.sh

pidfile="$CUBE_VAR_DIR/run-production.pid"
if [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "a stack already runs from $CUBE_VAR_DIR (pid $(cat "$pidfile")); stop it first"
    exit 1
fi
echo $$ >"$pidfile"

swift_started=""
supervisor_pid=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    rm -f "$pidfile"
    if [[ -n $supervisor_pid ]] && kill -0 "$supervisor_pid" 2>/dev/null; then
        kill -TERM "$supervisor_pid" 2>/dev/null || true
        wait "$supervisor_pid" 2>/dev/null || true
    fi
    if [[ -n $swift_started ]]; then
        utils/scripts/swift-local.sh stop || true
    fi
    exit "$status"
}
trap cleanup EXIT
# Ctrl-C reaches the supervisor through this trap: a background job of a script ignores
# SIGINT.
trap 'log "stopping"; exit 130' INT
trap 'log "stopping"; exit 143' TERM
trap 'log "stopping"; exit 129' HUP

if swift_ready; then
    log "using the Swift already answering at $SWIFT_AUTH_URL"
else
    utils/scripts/swift-local.sh start
    swift_started=1
fi

.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py bootstrap
.venv/bin/python manage.py collectstatic --noinput -v0

# It holds SWIFT_KEY and DATABASE_URL: written 0600 and moved into place, so an older file's
# mode does not carry over. The compute credentials stay in localcompute.env alone.
env_file="$CUBE_VAR_DIR/production.env"
(
    umask 077
    {
        echo "# Written by run-production.sh; source with: set -a; . $env_file; set +a"
        echo "# localcompute's credentials (COMPUTE_USER/COMPUTE_PASSWORD) are in localcompute.env"
        for name in CUBE_VAR_DIR CUBE_PORT LOCALCOMPUTE_PORT DATABASE_URL CELERY_BROKER_URL \
            CELERY_BROKER_FOLDER STORAGE_BACKEND SWIFT_AUTH_URL SWIFT_USERNAME SWIFT_KEY \
            SWIFT_CONTAINER_NAME CUBE_PLUGINS_DIR COMPUTE_RESOURCE_URL STORAGE_ENV STOREBASE \
            LOCALCOMPUTE_DATA_DIR LOCALCOMPUTE_PLUGINS; do
            printf '%s=%q\n' "$name" "${!name}"
        done
    } >"$env_file.tmp"
)
mv -f "$env_file.tmp" "$env_file"

log "CUBE will serve http://localhost:$CUBE_PORT/api/v1/ (user chris:chris1234)"
log "PostgreSQL $DATABASE_URL, broker $CELERY_BROKER_URL, Swift $SWIFT_AUTH_URL ($SWIFT_CONTAINER_NAME)"
if (($# == 0)) && [[ -n ${CUBE_PROCESSES:-} ]]; then
    read -r -a processes <<<"$CUBE_PROCESSES"
    set -- "${processes[@]}"
fi
.venv/bin/python utils/scripts/supervise.py Procfile "$@" &
supervisor_pid=$!
# wait returns early when a trapped signal arrives; the trap then exits through cleanup.
wait "$supervisor_pid"
