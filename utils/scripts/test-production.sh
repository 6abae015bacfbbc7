#!/usr/bin/env bash
# The production-profile test suite (CI runs it after the embedded one):
#
#   utils/scripts/test-production.sh [PYTEST_ARGS ...]
#
# 1. makes sure PostgreSQL, Redis, the built-in plugins and a local Swift are there (Swift is
#    started under $CUBE_TEST_VAR/swift if nothing answers on 8080, and stopped on exit);
# 2. checks that migrations are complete on SQLite and on PostgreSQL;
# 3. runs `pytest -m integration` (Swift storage contract, localcompute in swift mode, the
#    production launcher end to end) and then the whole API suite, both on PostgreSQL.
# Under CI=true a missing service fails its tests instead of skipping them.
# Exit status: non-zero if any step failed. PYTEST_ARGS go to both pytest runs.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

export CUBE_TEST_VAR="${CUBE_TEST_VAR:-$PWD/var/test-production}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cube}"
export SWIFT_AUTH_URL="${SWIFT_AUTH_URL:-http://127.0.0.1:8080/auth/v1.0}"
export SWIFT_USERNAME="${SWIFT_USERNAME:-chris:chris1234}"
export SWIFT_KEY="${SWIFT_KEY:-testing}"
pytest=(.venv/bin/pytest -q -p no:cacheprovider --basetemp="$CUBE_TEST_VAR/pytest")

log() { printf '\ntest-production: %s\n' "$*" >&2; }

failed=()
step() {
    local name=$1 started=$SECONDS
    shift
    log "$name"
    "$@"
    local status=$?
    log "$name: exit $status in $((SECONDS - started))s"
    ((status == 0)) || failed+=("$name")
}

swift_ready() {
    .venv/bin/python -c '
import os, sys, urllib.request
request = urllib.request.Request(os.environ["SWIFT_AUTH_URL"], headers={
    "X-Auth-User": os.environ["SWIFT_USERNAME"], "X-Auth-Key": os.environ["SWIFT_KEY"]})
try:
    urllib.request.urlopen(request, timeout=3).close()
except OSError:
    sys.exit(1)'
}

mkdir -p "$CUBE_TEST_VAR"
rm -rf "$CUBE_TEST_VAR/pytest"
DATABASE_URL="$TEST_DATABASE_URL" utils/scripts/ensure-services.sh || failed+=("services")
utils/scripts/install_builtin_plugins.sh .venvs/plugins var/plugins || failed+=("plugins")

swift_started=""
stop_swift() {
    if [[ -n $swift_started ]]; then
        SWIFT_BASE="$CUBE_TEST_VAR/swift" utils/scripts/swift-local.sh stop
    fi
}
trap stop_swift EXIT
if ! swift_ready; then
    # A fresh store each run: test containers are removed anyway, and nothing else uses it.
    rm -rf "$CUBE_TEST_VAR/swift"
    SWIFT_BASE="$CUBE_TEST_VAR/swift" utils/scripts/swift-local.sh start && swift_started=1 \
        || failed+=("swift")
fi

step "migrations complete (SQLite)" env -u DATABASE_URL -u POSTGRES_DB \
    CUBE_VAR_DIR="$CUBE_TEST_VAR" SQLITE_PATH="$CUBE_TEST_VAR/check.sqlite3" \
    .venv/bin/python manage.py makemigrations --check --dry-run
step "migrations complete (PostgreSQL)" env DATABASE_URL="$TEST_DATABASE_URL" \
    .venv/bin/python manage.py makemigrations --check --dry-run
step "integration tests (PostgreSQL, Redis, Swift, localcompute)" \
    env DATABASE_URL="$TEST_DATABASE_URL" "${pytest[@]}" -m integration "$@"
# tests/e2e, tests/clients and tests/browser drive the embedded launcher (SQLite by
# definition); they run in `make test`, and here they would hand DATABASE_URL on to it.
step "API suite on PostgreSQL" env DATABASE_URL="$TEST_DATABASE_URL" "${pytest[@]}" \
    --ignore=tests/e2e --ignore=tests/clients --ignore=tests/browser "$@"

if ((${#failed[@]})); then
    log "FAILED: ${failed[*]}"
    exit 1
fi
log "all production-profile checks passed"
