from rest_framework import permissions


def pipeline_of(obj):
    return getattr(obj, "pipeline", obj)


class CanReadPipeline(permissions.BasePermission):
    """Read: anyone while unlocked, else its owner or a superuser. Write: owner or superuser."""

    def has_object_permission(self, request, view, obj) -> bool:
        pipeline = pipeline_of(obj)
        if request.method in permissions.SAFE_METHODS:
            return pipeline.is_readable_by(request.user)
        return request.user.is_superuser or pipeline.owner_id == request.user.id


class CanChangeDefaults(permissions.BasePermission):
    """A superuser always; the owner while locked; anyone may read while unlocked."""

    def has_object_permission(self, request, view, default) -> bool:
        pipeline = default.plugin_piping.pipeline
        user = request.user
        if user.is_superuser or (pipeline.locked and pipeline.owner_id == user.id):
            return True
        return request.method in permissions.SAFE_METHODS and not pipeline.locked
