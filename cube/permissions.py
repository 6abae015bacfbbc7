"""One rule per permission class; views combine them with ``|`` and ``&``.

DRF evaluates a combination per request (``has_permission``) and per object
(``has_object_permission``), so each class answers both questions for its own rule only.
"""

from rest_framework import permissions


class ReadOnly(permissions.BasePermission):
    """Safe methods (GET, HEAD, OPTIONS)."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS


class IsSuperuser(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_superuser)

    def has_object_permission(self, request, view, obj) -> bool:
        return bool(request.user and request.user.is_superuser)


class IsOwner(permissions.BasePermission):
    """The object's ``owner`` is the caller; any caller may reach the object first."""

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.owner_id == request.user.pk


class IsSelf(permissions.BasePermission):
    """The object is the calling user."""

    def has_object_permission(self, request, view, obj) -> bool:
        return obj == request.user


class CanReadFeedOf(permissions.BasePermission):
    """Read on the object's feed: its owners, a superuser, or anyone if public."""

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.feed.is_readable_by(request.user)


class IsAuthenticatedOrReadIfFeedPublic(permissions.BasePermission):
    """Any authenticated user; anonymous callers may only read objects of public feeds."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.user.is_authenticated:
            return True
        return request.method in permissions.SAFE_METHODS and obj.feed.public
