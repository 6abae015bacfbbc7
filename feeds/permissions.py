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


class IsTagOwnerOrSuperuser(permissions.BasePermission):
    def has_object_permission(self, request, view, tagging) -> bool:
        return request.user.is_superuser or tagging.tag.owner_id == request.user.pk
