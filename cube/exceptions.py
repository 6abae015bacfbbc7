"""Maps adapter and domain errors to HTTP answers in the negotiated format."""

import logging

from django.http import Http404, JsonResponse
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from pfcon_client import PfconError
from storage import StorageError

logger = logging.getLogger(__name__)


class InvalidTransition(Exception):
    """A plugin instance status change that the transition table forbids."""

    def __init__(self, current: str, new: str):
        super().__init__(f"Can not change status from '{current}' to '{new}'.")
        self.current, self.new = current, new


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = NotFound()  # the v5 message, not Django's "No X matches the given query."
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, InvalidTransition):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, StorageError | PfconError):
        logger.error("Service unavailable: %s", exc)
        return Response(
            {"detail": "A backing service is unavailable, try again later."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    logger.exception("Unhandled error in %s", context.get("view"))
    return Response({"error": "Internal server error"}, status=500)


def wants_plain_json(request) -> bool:
    return request.headers.get("Accept", "").split(";")[0].strip() == "application/json"


def not_found(request, exception=None):
    """A 404 for URLs no route matches, in the API's formats rather than an HTML page."""
    if wants_plain_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    body = {
        "collection": {
            "version": "1.0",
            "href": request.build_absolute_uri(),
            "error": {"message": "Not found."},
        }
    }
    return JsonResponse(body, status=404, content_type="application/vnd.collection+json")
