"""Token and Basic authentication; Basic keeps a short-lived cache of verified credentials.

Hashing a password costs ~100 ms by design, and Basic-auth clients send it on every request.
A verified (username, password) pair is remembered for a short time under an HMAC of both, so
the plaintext is never stored. An entry only counts while the user's stored hash is unchanged,
so a password change invalidates it at once.
"""

import hashlib
import hmac
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from drf_spectacular.authentication import BasicScheme
from rest_framework import authentication, exceptions

from users import queries

CACHE_SECONDS = 60
CACHE_ENTRIES = 1024


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token scheme (its keyword already matches case-insensitively)."""

    def authenticate_credentials(self, key):
        if "\x00" in key:  # PostgreSQL refuses NUL even in a query: no such token
            raise exceptions.AuthenticationFailed("Invalid token.")
        user = queries.token_owner(key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, key


class VerifiedCredentials:
    def __init__(self):
        self._entries: OrderedDict[bytes, tuple[int, str, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(username: str, password: str) -> bytes:
        message = f"{len(username)}:{username}:{password}".encode()
        return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()

    def get(self, key: bytes) -> tuple[int, str] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            user_id, password_hash, expires = entry
            if expires < time.monotonic():
                del self._entries[key]
                return None
            return user_id, password_hash

    def put(self, key: bytes, user_id: int, password_hash: str) -> None:
        with self._lock:
            self._entries[key] = (user_id, password_hash, time.monotonic() + CACHE_SECONDS)
            self._entries.move_to_end(key)
            while len(self._entries) > CACHE_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_credentials = VerifiedCredentials()


class CachedBasicAuthentication(authentication.BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        if "\x00" in userid or "\x00" in password:  # never valid; PostgreSQL refuses NUL
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        key = verified_credentials.key(userid, password)
        cached = verified_credentials.get(key)
        if cached is not None:
            user_id, password_hash = cached
            user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
            if user is not None and user.password == password_hash:
                return user, None
        user = authenticate(request=request, username=userid, password=password)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        verified_credentials.put(key, user.pk, user.password)
        return user, None


class CachedBasicScheme(BasicScheme):
    """Documents CachedBasicAuthentication as HTTP Basic in the OpenAPI schema."""

    target_class = CachedBasicAuthentication
