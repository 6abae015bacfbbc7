#!/usr/bin/env bash
# Start the embedded stack (SQLite, filesystem storage, localcompute, a broker-less Celery)
# in the foreground: web on 127.0.0.1:$CUBE_PORT, worker, beat and localcompute under
# utils/scripts/supervise.py, which restarts a process that crashes. Ctrl-C, SIGTERM or SIGHUP
# stops them all. localcompute's login and token key are random per var dir,
# in $CUBE_VAR_DIR/localcompute.env (see utils/scripts/localcompute_credentials.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

export CUBE_VAR_DIR="${CUBE_VAR_DIR:-$PWD/var}"
export CUBE_PORT="${CUBE_PORT:-8000}"
export LOCALCOMPUTE_PORT="${LOCALCOMPUTE_PORT:-30005}"
export STORAGE_ROOT="$CUBE_VAR_DIR/storage"
export CUBE_PLUGINS_DIR="${CUBE_PLUGINS_DIR:-$PWD/var/plugins}"
export COMPUTE_RESOURCE_URL="http://127.0.0.1:$LOCALCOMPUTE_PORT/api/v1/"
# localcompute shares CUBE's storage root and stages inputs by hard links (fslink mode).
export STORAGE_ENV=fslink
export STOREBASE="$STORAGE_ROOT"
export LOCALCOMPUTE_DATA_DIR="$CUBE_VAR_DIR/localcompute"
export LOCALCOMPUTE_PLUGINS="$CUBE_PLUGINS_DIR/catalogue.json"

mkdir -p "$STORAGE_ROOT" "$LOCALCOMPUTE_DATA_DIR"
# localcompute's login and token key: random, created once (mode 0600) and kept across
# restarts. CUBE's compute resource "host" gets the same user and password (setup_compute).
.venv/bin/python utils/scripts/localcompute_credentials.py "$CUBE_VAR_DIR"
set -a
. "$CUBE_VAR_DIR/localcompute.env"
set +a
export COMPUTE_USER="$LOCALCOMPUTE_USER" COMPUTE_PASSWORD="$LOCALCOMPUTE_PASSWORD"
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py bootstrap
.venv/bin/python manage.py collectstatic --noinput -v0
# CUBE_UI_DIR names a built ChRIS_ui: it is served at / too, pointed at this server.
if [[ -n ${CUBE_UI_DIR:-} ]]; then
    .venv/bin/python utils/scripts/prepare_ui.py "$CUBE_UI_DIR" "$CUBE_VAR_DIR/ui" \
        "${CUBE_UI_API_URL:-http://localhost:$CUBE_PORT/api/v1/}" >&2
    echo "ChRIS_ui will be at http://localhost:$CUBE_PORT/" >&2
fi
echo "CUBE will serve http://localhost:$CUBE_PORT/api/v1/ (user chris:chris1234)" >&2
exec .venv/bin/python utils/scripts/supervise.py Procfile
