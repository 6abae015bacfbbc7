"""A paste filter that gives Swift an in-process cache instead of memcached.

Swift's proxy caches account and container info in ``env['swift.cache']``; without any cache
every request re-reads both from the backend servers and runs about half as fast. For the
single-process dev server (utils/scripts/swift_aio.py) a dict is enough. It implements the
subset of Swift's MemcacheRing interface that the proxy middlewares call.
"""

import json
import time
from collections.abc import Callable, Iterable
from typing import Any


class LocalCache:
    """A dict with memcache-style expiry; values are JSON-serialized as memcache would.

    Method signatures mirror Swift's MemcacheRing, including its ``time`` keyword (a TTL in
    seconds), which shadows the module inside those methods.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[Any, float | None, bool]] = {}

    @staticmethod
    def _expires_at(ttl: float) -> float | None:
        return time.time() + ttl if ttl else None

    def set(
        self,
        key: str,
        value: Any,
        serialize: bool = True,
        time: float = 0,
        min_compress_len: int = 0,
        raise_on_error: bool = False,
    ) -> None:
        stored = json.dumps(value) if serialize else value
        self._items[key] = (stored, self._expires_at(time), serialize)

    def get(self, key: str, raise_on_error: bool = False) -> Any:
        item = self._items.get(key)
        if item is None:
            return None
        stored, expires_at, serialized = item
        if expires_at is not None and expires_at < time.time():
            self._items.pop(key, None)
            return None
        return json.loads(stored) if serialized else stored

    def delete(self, key: str, server_key: str | None = None) -> None:
        self._items.pop(key, None)

    def incr(self, key: str, delta: int = 1, time: float = 0) -> int:
        value = max(0, int(self.get(key) or 0) + int(delta))
        self.set(key, value, time=time)
        return value

    def decr(self, key: str, delta: int = 1, time: float = 0) -> int:
        return self.incr(key, -int(delta), time)

    def set_multi(
        self,
        mapping: dict[str, Any],
        server_key: str,
        serialize: bool = True,
        time: float = 0,
        min_compress_len: int = 0,
        raise_on_error: bool = False,
    ) -> None:
        for key, value in mapping.items():
            self.set(key, value, serialize=serialize, time=time)

    def get_multi(self, keys: Iterable[str], server_key: str) -> list[Any]:
        return [self.get(key) for key in keys]


class LocalCacheMiddleware:
    """Puts one shared LocalCache into every request's environment."""

    def __init__(self, app: Callable, conf: dict[str, str]) -> None:
        self.app = app
        self.cache = LocalCache()

    def __call__(self, env: dict, start_response: Callable) -> Any:
        env["swift.cache"] = self.cache
        return self.app(env, start_response)


def filter_factory(global_conf: dict[str, str], **local_conf: str) -> Callable:
    """Paste entry point (``paste.filter_factory = swift_localcache:filter_factory``)."""
    return lambda app: LocalCacheMiddleware(app, local_conf)
