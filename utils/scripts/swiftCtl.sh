#!/usr/bin/env bash
# List, push and pull objects in a Swift container.
#
#   swiftCtl.sh [-A list|push|pull] [-D dir] [-E ext] [-P prefix] [-O pulldir]
#               [-S host] [-p port] [-C container] [-j threads]
#
#   -A  action (default list)
#   -D  local folder to push; objects are named <prefix>/<path relative to dir>
#   -E  only files/objects whose name ends in .<ext> (case-insensitive)
#   -P  object prefix, e.g. chris/uploads/DICOM/dataset1
#   -O  folder to pull into; objects land at <pulldir>/<name relative to prefix>
#   -S  Swift host (default 127.0.0.1), -p port (default 8080), -C container (default users)
#
# Credentials come from SWIFT_USERNAME (default chris:chris1234) and SWIFT_KEY (default
# testing); the auth URL is http://<host>:<port>/auth/v1.0 unless SWIFT_AUTH_URL is set.
# The work is done by swift_ctl.py, run with $PYTHON, else the repo's .venv, else python3.
set -euo pipefail

scripts_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$scripts_dir/../.." && pwd)

python=${PYTHON:-}
if [[ -z $python ]]; then
    if [[ -x $repo_dir/.venv/bin/python ]]; then
        python=$repo_dir/.venv/bin/python
    else
        python=python3
    fi
fi

# swift_ctl.py uses the project's storage package.
export PYTHONPATH="$repo_dir${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" "$scripts_dir/swift_ctl.py" "$@"
