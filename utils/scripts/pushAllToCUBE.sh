#!/usr/bin/env bash
# Upload a local folder (recursively) into CUBE through the API, as the seed workflow does:
#
#   utils/scripts/pushAllToCUBE.sh -D DIR [-E ext] [-P prefix] [-C host] [-p port]
#                                  [-U user:password] [-j jobs]
#
#   -D DIR            local folder to upload, recursively (required)
#   -E ext            only files whose name ends in .ext (e.g. dcm)
#   -P prefix         destination under <user>/uploads/ (e.g. DICOM/dataset1)
#   -C host           CUBE host (default localhost); http://host or https://host also work
#   -p port           CUBE port (default 8000)
#   -U user:password  credentials (default chris:chris1234)
#   -j jobs           parallel uploads (default 4)
#
# Each file becomes <user>/uploads/<prefix>/<path relative to DIR>. Progress goes to stderr.
# Exits 1 and lists the files that failed when any upload failed, 2 on a usage or login error.
# PYTHON selects the interpreter (default: the repo's .venv, which has urllib3).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

dir=""
ext=""
prefix=""
host="localhost"
port="8000"
auth="chris:chris1234"
jobs="4"
while getopts ":D:E:P:C:p:U:j:h" opt; do
  case "$opt" in
    D) dir="$OPTARG" ;;
    E) ext="$OPTARG" ;;
    P) prefix="$OPTARG" ;;
    C) host="$OPTARG" ;;
    p) port="$OPTARG" ;;
    U) auth="$OPTARG" ;;
    j) jobs="$OPTARG" ;;
    h) usage ;;
    :) echo "error: -$OPTARG needs a value" >&2; usage ;;
    *) echo "error: unknown option -$OPTARG" >&2; usage ;;
  esac
done
shift $((OPTIND - 1))
if (($#)); then
  echo "error: unexpected argument: $1" >&2
  usage
fi
if [[ -z "$dir" ]]; then
  echo "error: -D DIR is required" >&2
  usage
fi
if [[ ! "$port" =~ ^[0-9]+$ ]]; then
  echo "error: -p needs a port number, got: $port" >&2
  exit 2
fi

case "$host" in
  http://* | https://*) url="${host%/}:$port/api/v1/" ;;
  *) url="http://$host:$port/api/v1/" ;;
esac

python="${PYTHON:-$repo_root/.venv/bin/python}"
# The password travels in the environment, not on a command line that ps would show.
CUBE_AUTH="$auth" exec "$python" "$repo_root/utils/scripts/push_all_to_cube.py" \
  --dir "$dir" --ext "$ext" --prefix "$prefix" --url "$url" --jobs "$jobs"
