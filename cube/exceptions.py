"""Maps adapter and domain errors to HTTP answers in the negotiated format."""

import logging

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import status
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from collectionjson.parsers import RequestTooLarge
from pfcon_client import PfconError
from storage import StorageError

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = NotFound()  # the v5 message, not Django's "No X matches the given query."
    elif isinstance(exc, ObjectDoesNotExist):
        # A row the request works on was deleted meanwhile, say by a second DELETE of it.
        exc = NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):  # too many form fields or files
        exc = ParseError(str(exc))
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    # Domain errors that name their answer (plugins.status.InvalidTransition: 409); apps
    # own them, so this module needs to import none.
    http_status = getattr(exc, "http_status", None)
    if http_status is not None:
        return Response({"detail": str(exc)}, status=http_status)
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
