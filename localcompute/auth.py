"""Bearer tokens: HS256 JWTs carrying the single pfcon user, valid for two days."""

import hmac
from datetime import UTC, datetime, timedelta

import jwt

TOKEN_LIFETIME = timedelta(days=2)


class AuthError(Exception):
    """A request's credentials were refused; the message is sent to the client."""


def check_credentials(user: str, password: str, *, expected_user: str, expected_password: str):
    """True when both values match, compared in constant time."""
    user_ok = hmac.compare_digest(user.encode(), expected_user.encode())
    password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
    return user_ok and password_ok


def create_token(user: str, *, secret_key: str, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    return jwt.encode({"pfcon_user": user, "exp": issued + TOKEN_LIFETIME}, secret_key, "HS256")


def check_authorization_header(header: str | None, *, secret_key: str) -> None:
    """Raise AuthError with pfcon's wording unless the header holds a valid token."""
    if not header:
        raise AuthError("Missing authorization header.")
    if not header.startswith("Bearer "):
        raise AuthError("Invalid authorization header.")
    token = header[len("Bearer ") :].strip()
    try:
        jwt.decode(token, secret_key, algorithms=["HS256"])
    except jwt.ExpiredSignatureError as e:
        raise AuthError("Expired authorization token.") from e
    except jwt.InvalidTokenError as e:
        raise AuthError("Invalid authorization token.") from e
