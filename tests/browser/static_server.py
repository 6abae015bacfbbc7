"""A tiny static file server for a single-page app: unknown paths get its index.html."""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class SinglePageHandler(SimpleHTTPRequestHandler):
    """Serves files from the directory; a path with no such file gets index.html (SPA routes)."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if not path.exists() and "." not in path.name:
            self.path = "/index.html"
        return super().send_head()

    def log_message(self, *args):
        pass


class StaticServer:
    """Serve root on 127.0.0.1:<free port> in a thread; ``url`` ends without a slash."""

    def __init__(self, root: Path):
        handler = functools.partial(SinglePageHandler, directory=str(root))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> "StaticServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":  # development: python -m tests.browser.static_server DIR PORT
    import sys

    handler = functools.partial(SinglePageHandler, directory=sys.argv[1])
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), handler).serve_forever()
