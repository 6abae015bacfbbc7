from rest_framework import permissions


class IsSuperuserOrReadOnly(permissions.BasePermission):
    """Registering files is for a superuser; reading is for whoever passes the other checks."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or request.user.is_superuser
