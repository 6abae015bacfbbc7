from rest_framework import permissions


class IsOwnerOrSuperuser(permissions.BasePermission):
    def has_object_permission(self, request, view, obj) -> bool:
        return request.user.is_superuser or obj.owner_id == request.user.id
