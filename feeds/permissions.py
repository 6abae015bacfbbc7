from rest_framework import permissions


class IsOwnerOrSuperuserOrReadIfPublic(permissions.BasePermission):
    """Read: owners, a superuser, or anyone when public. Write: owners or a superuser."""

    def has_object_permission(self, request, view, feed) -> bool:
        if request.method in permissions.SAFE_METHODS and feed.public:
            return True
        if not request.user.is_authenticated:
            return False
        return request.user.is_superuser or feed.is_owned_by(request.user)


class CanReadFeed(permissions.BasePermission):
    def has_object_permission(self, request, view, feed) -> bool:
        return feed.is_readable_by(request.user)


class IsFeedOwnerOrSuperuser(permissions.BasePermission):
    """The feed's co-owners or a superuser, for every method."""

    def has_object_permission(self, request, view, feed) -> bool:
        return request.user.is_superuser or feed.is_owned_by(request.user)


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


class IsTagOwnerOrSuperuser(permissions.BasePermission):
    def has_object_permission(self, request, view, tagging) -> bool:
        return request.user.is_superuser or tagging.tag.owner_id == request.user.pk
