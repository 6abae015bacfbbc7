"""Serve Swift's account, container, object and proxy servers from one process.

Usage: swift_aio.py <swift_dir>   (the folder holding the four *-server.conf files)

Swift ships no all-in-one server. The proxy always reaches the other three over HTTP through
the rings, so this runs four eventlet WSGI servers on their own loopback ports in one process:
about 70 MB and half a second to start, versus four processes. Run it with the Swift venv's
Python; utils/scripts/swift-local.sh does that.
"""

import os
import sys
import time

from swift.common.utils import monkey_patch

# Eventlet must patch sockets and threads before anything else imports them.
monkey_patch()

import eventlet  # noqa: E402
import eventlet.wsgi  # noqa: E402
from swift.common import constraints, wsgi  # noqa: E402
from swift.common.http_protocol import SwiftHttpProtocol  # noqa: E402
from swift.common.utils import NullLogger  # noqa: E402
from swift.common.wsgi import RestrictedGreenPool  # noqa: E402

# The proxy starts last, so once its /healthcheck answers the backends are listening too.
SERVERS = ("account", "container", "object", "proxy")


def serve(swift_dir: str) -> None:
    """Load each server's paste pipeline and serve all of them until killed."""
    # paste.deploy rejects relative config paths.
    swift_dir = os.path.abspath(swift_dir)
    # Swift's servers expect UTC for log and header timestamps.
    os.environ["TZ"] = "UTC+0"
    time.tzset()
    servers = []
    for name in SERVERS:
        conf_path = os.path.join(swift_dir, f"{name}-server.conf")
        conf, _logger, log_name = wsgi._initrp(conf_path, f"{name}-server", verbose=True)
        sock = wsgi.get_socket(conf)
        app = wsgi.loadapp(conf_path, global_conf={"log_name": log_name})
        # swift.common.wsgi.run_server() would install a fresh eventlet hub on each call and
        # drop the servers already spawned, so the servers are spawned directly.
        servers.append(
            eventlet.spawn(
                eventlet.wsgi.server,
                sock,
                app,
                NullLogger(),
                custom_pool=RestrictedGreenPool(size=1024),
                protocol=SwiftHttpProtocol,
                socket_timeout=float(conf.get("client_timeout") or 60),
                capitalize_response_headers=False,
                url_length_limit=constraints.MAX_REQUEST_LINE,
            )
        )
    for server in servers:
        server.wait()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} <swift_dir>")
    serve(sys.argv[1])
