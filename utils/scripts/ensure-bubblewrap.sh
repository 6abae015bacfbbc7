#!/usr/bin/env bash
# Make sure bubblewrap (bwrap), localcompute's plugin sandbox, is installed and works here.
#
#   utils/scripts/ensure-bubblewrap.sh
#
# Installs Debian's bubblewrap package when it is missing and this runs as root with apt-get;
# otherwise stops with a one-line instruction. Nothing to do with LOCALCOMPUTE_SANDBOX=off.
set -euo pipefail

[[ ${LOCALCOMPUTE_SANDBOX:-bwrap} == off ]] && exit 0

if ! command -v bwrap >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "ensure-bubblewrap: installing bubblewrap (the plugin sandbox)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
    else
        echo "localcompute runs plugins in a bubblewrap sandbox: install it first" \
            "(sudo apt-get install bubblewrap, or your system's bubblewrap package)" >&2
        exit 1
    fi
fi

if ! error=$(bwrap --unshare-all --unshare-user --die-with-parent --ro-bind /usr /usr \
    --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
    /bin/sh -c 'exit 0' 2>&1); then
    echo "bubblewrap cannot create a sandbox here (${error:-no detail}); enable unprivileged" \
        "user namespaces (sysctl kernel.unprivileged_userns_clone=1) or run as root" >&2
    exit 1
fi
