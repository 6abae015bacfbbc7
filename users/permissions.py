from rest_framework import permissions


class IsSelfOrSuperuser(permissions.BasePermission):
    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.is_superuser or obj == request.user


class IsOwnerOrSuperuser(permissions.BasePermission):
    """The object's owner or a superuser, for every method."""

    def has_object_permission(self, request, view, obj) -> bool:
        return request.user.is_superuser or obj.owner_id == request.user.pk


class IsOwnerOrSuperuserOrReadOnly(permissions.BasePermission):
    """Anyone who passed the other checks reads; the owner or a superuser writes."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.is_superuser or obj.owner_id == request.user.pk


class IsSuperuserOrReadOnly(permissions.BasePermission):
    """Writes are for a superuser; reads for whoever passed the other checks."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or request.user.is_superuser
