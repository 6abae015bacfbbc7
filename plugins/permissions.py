from rest_framework import permissions


class CanReadInstance(permissions.BasePermission):
    """Any authenticated user may read an instance; anonymous callers only in public feeds."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.user.is_authenticated:
            return True
        return request.method in permissions.SAFE_METHODS and obj.feed.public


class CanReadFeedOf(permissions.BasePermission):
    """Feed-read on the object's feed: its owners, a superuser, or anyone if public."""

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.feed.is_readable_by(request.user)
