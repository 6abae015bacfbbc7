#!/usr/bin/env bash
# Run a single-node OpenStack Swift on loopback for development and CI.
#
#   utils/scripts/swift-local.sh setup|start|stop|status
#
# The server runs from its own venv (eventlet and Swift's pinned deps must not leak into the
# app's venv) as ONE process: utils/scripts/swift_aio.py serves the account, container, object
# and proxy servers together. Auth is tempauth with user chris:chris1234, key testing, at
# http://127.0.0.1:${SWIFT_PROXY_PORT}/auth/v1.0. Objects persist under $SWIFT_BASE/srv across
# restarts; remove $SWIFT_BASE for a clean store.
#
# Environment: SWIFT_BASE (default <repo>/var/swift), SWIFT_VENV (default <repo>/.venvs/swift),
# SWIFT_PYTHON (interpreter for creating the venv, default python3), SWIFT_PROXY_PORT (8080),
# SWIFT_OBJECT_PORT (6010), SWIFT_CONTAINER_PORT (6011), SWIFT_ACCOUNT_PORT (6012),
# SWIFT_START_TIMEOUT (seconds, default 30).
set -euo pipefail

SWIFT_VERSION=2.38.3

scripts_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$scripts_dir/../.." && pwd)
base=${SWIFT_BASE:-$repo_dir/var/swift}
venv=${SWIFT_VENV:-$repo_dir/.venvs/swift}
proxy_port=${SWIFT_PROXY_PORT:-8080}
object_port=${SWIFT_OBJECT_PORT:-6010}
container_port=${SWIFT_CONTAINER_PORT:-6011}
account_port=${SWIFT_ACCOUNT_PORT:-6012}
start_timeout=${SWIFT_START_TIMEOUT:-30}

etc=$base/etc
pidfile=$base/run/swift.pid
logfile=$base/log/swift.log

log() { printf 'swift-local: %s\n' "$*" >&2; }

ensure_venv() {
    local installed=""
    if [[ -x $venv/bin/python ]]; then
        installed=$("$venv/bin/python" -c \
            'from importlib.metadata import version; print(version("swift"))' 2>/dev/null || true)
    fi
    [[ $installed == "$SWIFT_VERSION" ]] && return 0
    log "installing swift==$SWIFT_VERSION into $venv"
    "${SWIFT_PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "swift==$SWIFT_VERSION"
}

write_server_conf() {
    local kind=$1 port=$2
    cat >"$etc/$kind-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
# workers = 0 serves inside the launching process: no fork, no privilege drop.
workers = 0
user = $(id -un)
swift_dir = $etc
devices = $base/srv/node
# The device is a plain folder, not a mount point; with mount_check every request is a 507.
mount_check = false
log_level = INFO

[pipeline:main]
pipeline = $kind-server

[app:$kind-server]
use = egg:swift#$kind
CONF
}

write_proxy_conf() {
    local fernet_key
    fernet_key=$(cat "$etc/fernet.key")
    cat >"$etc/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $proxy_port
workers = 0
user = $(id -un)
swift_dir = $etc
log_level = INFO

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
# With a single device, one error would otherwise make the proxy skip that device for 60 s
# and fail every request meanwhile.
error_suppression_interval = 0

[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_chris_chris1234 = testing .admin
# Fernet tokens are self-contained, so tempauth needs no memcached.
fernet_key_1 = $fernet_key
active_fernet_key_id = 1

[filter:cache]
# In-process dict cache (account/container info) instead of a memcached server.
paste.filter_factory = swift_localcache:filter_factory

[filter:slo]
use = egg:swift#slo
# Tests upload with small segments; allow many and don't throttle small-segment reads.
max_manifest_segments = 10000
max_manifest_size = 16777216
rate_limit_under_size = 0

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:copy]
use = egg:swift#copy
[filter:dlo]
use = egg:swift#dlo
CONF
}

build_rings() {
    "$venv/bin/python" - "$etc" "$object_port" "$container_port" "$account_port" <<'PY'
import os
import sys

from swift.common.ring import RingBuilder

etc = sys.argv[1]
ports = dict(zip(("object", "container", "account"), map(int, sys.argv[2:5])))
for kind, port in ports.items():
    # One device, one replica; part power 6 keeps the rings tiny.
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port,
                     "device": "sdb1", "weight": 100, "meta": ""})
    builder.rebalance()
    builder.save(os.path.join(etc, f"{kind}.builder"))
    builder.get_ring().save(os.path.join(etc, f"{kind}.ring.gz"))
PY
}

setup() {
    ensure_venv
    mkdir -p "$etc" "$base/srv/node/sdb1" "$base/run" "$base/log"
    cat >"$etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = cube-local-suffix
swift_hash_path_prefix = cube-local-prefix

[storage-policy:0]
name = Policy-0
default = yes
CONF
    # Keeping the key across setups keeps issued tokens valid.
    if [[ ! -s $etc/fernet.key ]]; then
        "$venv/bin/python" -c \
            'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' \
            >"$etc/fernet.key"
    fi
    write_server_conf account "$account_port"
    write_server_conf container "$container_port"
    write_server_conf object "$object_port"
    write_proxy_conf
    build_rings
    log "configured in $base"
}

is_set_up() {
    [[ -x $venv/bin/python && -s $etc/proxy-server.conf && -s $etc/object.ring.gz ]]
}

running_pid() {
    # Only trust the pidfile if that pid is still our server (pids get reused).
    local pid
    [[ -s $pidfile ]] || return 1
    pid=$(cat "$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'swift_aio.py' || return 1
    printf '%s\n' "$pid"
}

wait_healthy() {
    "$venv/bin/python" - "$1" "http://127.0.0.1:$proxy_port/healthcheck" "$start_timeout" <<'PY'
import os
import sys
import time
import urllib.request

pid, url, timeout = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("swift exited during startup")
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                # Another server may own the port; ours must still be alive to count.
                time.sleep(0.2)
                os.kill(pid, 0)
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(f"swift not healthy after {timeout:.0f} s")
PY
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    if pid=$(running_pid); then
        log "already running (pid $pid)"
        return 0
    fi
    # Swift keeps retrying a busy port for 30 s (bind_timeout); meanwhile whatever already
    # listens there would answer the health check and this start would look successful.
    local port
    for port in "$proxy_port" "$object_port" "$container_port" "$account_port"; do
        if port_in_use "$port"; then
            log "port $port is already in use (another Swift, with a different SWIFT_BASE?)"
            return 1
        fi
    done
    is_set_up || setup
    mkdir -p "$base/run" "$base/log"
    nohup "$venv/bin/python" "$scripts_dir/swift_aio.py" "$etc" >>"$logfile" 2>&1 </dev/null &
    local pid=$!
    printf '%s\n' "$pid" >"$pidfile"
    if ! wait_healthy "$pid"; then
        log "failed to start; last log lines from $logfile:"
        tail -n 30 "$logfile" >&2 || true
        kill "$pid" 2>/dev/null || true
        rm -f "$pidfile"
        return 1
    fi
    log "running (pid $pid) at http://127.0.0.1:$proxy_port/auth/v1.0"
}

stop() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$pidfile"
        log "not running"
        return 0
    fi
    kill "$pid"
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"
    fi
    rm -f "$pidfile"
    log "stopped (pid $pid)"
}

status() {
    local pid
    if pid=$(running_pid); then
        echo "running (pid $pid) at http://127.0.0.1:$proxy_port/auth/v1.0"
    else
        echo "not running"
        return 3
    fi
}

case ${1:-} in
    setup) setup ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 setup|start|stop|status" >&2
        exit 2
        ;;
esac
