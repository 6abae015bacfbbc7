#!/usr/bin/env bash
# Run the production stack (utils/scripts/run-production.sh) in the background.
#
#   utils/scripts/stack.sh start|stop|status
#
# start returns once the API answers on $CUBE_PORT; output goes to $CUBE_VAR_DIR/stack.log.
# stop sends SIGTERM to the launcher found in $CUBE_VAR_DIR/run-production.pid, which stops
# every process of the stack (and the Swift it started). CUBE_VAR_DIR and CUBE_PORT must
# match those of the stack (defaults: <repo>/var/production, 8000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

var_dir="${CUBE_VAR_DIR:-$PWD/var/production}"
port="${CUBE_PORT:-8000}"
pidfile="$var_dir/run-production.pid"
logfile="$var_dir/stack.log"
timeout="${STACK_START_TIMEOUT:-180}"

log() { printf 'stack: %s\n' "$*" >&2; }

running_pid() {
    local pid
    [[ -s $pidfile ]] || return 1
    pid=$(cat "$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'run-production.sh' || return 1
    printf '%s\n' "$pid"
}

start() {
    if pid=$(running_pid); then
        log "already running (pid $pid)"
        return 0
    fi
    mkdir -p "$var_dir"
    CUBE_VAR_DIR="$var_dir" CUBE_PORT="$port" setsid nohup utils/scripts/run-production.sh \
        >>"$logfile" 2>&1 </dev/null &
    local launcher=$!
    local deadline=$((SECONDS + timeout))
    until curl -fs -o /dev/null -u chris:chris1234 "http://127.0.0.1:$port/api/v1/"; do
        if ! kill -0 "$launcher" 2>/dev/null; then
            log "the launcher exited; last lines of $logfile:"
            tail -n 40 "$logfile" >&2
            return 1
        fi
        if ((SECONDS > deadline)); then
            log "no answer on port $port after ${timeout}s; see $logfile"
            return 1
        fi
        sleep 1
    done
    log "running (pid $launcher) on http://localhost:$port/api/v1/, log $logfile"
}

stop() {
    local pid
    if ! pid=$(running_pid); then
        log "not running"
        return 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "launcher $pid still running after 30s"
        return 1
    fi
    log "stopped (pid $pid)"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status)
        if pid=$(running_pid); then echo "running (pid $pid)"; else echo "not running"; exit 3; fi
        ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
