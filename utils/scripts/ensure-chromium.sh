#!/usr/bin/env bash
# Make sure Debian's chromium, the browser of the real-browser tests (tests/browser), is here.
#
#   utils/scripts/ensure-chromium.sh
#
# Installs the chromium package when /usr/bin/chromium is missing and this runs as root with
# apt-get; otherwise prints a one-line instruction and exits 0 (the tests then skip, or fail
# under CI=true). Playwright launches it by path: no browser is ever downloaded.
set -euo pipefail

[[ -x /usr/bin/chromium ]] && exit 0
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "ensure-chromium: installing chromium (the browser tests' browser)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-liberation >/dev/null
else
    echo "the browser tests need Debian's chromium: sudo apt-get install chromium" >&2
fi
