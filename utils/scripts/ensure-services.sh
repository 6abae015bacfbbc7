#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer, starting them with this machine's commands if not,
# and that the database named by DATABASE_URL exists.
#
#   utils/scripts/ensure-services.sh
#
# DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) and CELERY_BROKER_URL
# (default redis://127.0.0.1:6379/0) say where to look. PG_START_CMD and REDIS_START_CMD override how a service that is down gets started.
# Services are left running. Exits non-zero if one still does not answer after 30 s.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
PG_START_CMD="${PG_START_CMD:-pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start}"
REDIS_START_CMD="${REDIS_START_CMD:-mkdir -p /var/lib/redis /var/log/redis && redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log}"
python=.venv/bin/python

log() { printf 'ensure-services: %s\n' "$*" >&2; }

# Checked from Python so that any DATABASE_URL or broker URL works, local or remote.
pg_ready() {
    "$python" - <<'PY'
import os, sys
from urllib.parse import unquote, urlparse
import psycopg2
url = urlparse(os.environ["DATABASE_URL"])
try:
    psycopg2.connect(host=url.hostname, port=url.port or 5432,
                     user=unquote(url.username or "postgres"),
                     password=unquote(url.password or ""), dbname="postgres",
                     connect_timeout=2).close()
except psycopg2.OperationalError:
    sys.exit(1)
PY
}

redis_ready() {
    "$python" -c 'import os, redis; redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], socket_connect_timeout=2).ping()' 2>/dev/null
}

ensure() {
    local name=$1 check=$2 start=$3
    "$check" && return 0
    log "$name is down; starting it: $start"
    bash -c "$start" >&2 || log "the start command for $name failed"
    for _ in $(seq 60); do
        "$check" && return 0
        sleep 0.5
    done
    log "$name does not answer"
    return 1
}

ensure PostgreSQL pg_ready "$PG_START_CMD"
ensure Redis redis_ready "$REDIS_START_CMD"

"$python" - <<'PY'
import os, sys
from urllib.parse import unquote, urlparse
import psycopg2
from psycopg2 import sql
url = urlparse(os.environ["DATABASE_URL"])
name = url.path.lstrip("/") or "postgres"
connection = psycopg2.connect(host=url.hostname, port=url.port or 5432,
                              user=unquote(url.username or "postgres"),
                              password=unquote(url.password or ""), dbname="postgres")
connection.autocommit = True
with connection.cursor() as cursor:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    if cursor.fetchone() is None:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"ensure-services: created database {name}", file=sys.stderr)
connection.close()
PY
