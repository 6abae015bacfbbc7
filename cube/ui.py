"""The optional same-origin ChRIS_ui: its index.html for every path the API does not own.

WhiteNoise serves the build's files (WHITENOISE_ROOT); this answers the single-page app's
own paths (``/``, ``/feeds/3``...) with its index.html, as ``sirv --single`` does upstream.
"""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest


def index(request: HttpRequest, path: str = "") -> FileResponse:
    """ChRIS_ui's index.html, when a UI build is configured."""
    page = Path(settings.UI_ROOT) / "index.html"
    if not settings.CUBE_UI_DIR or not page.is_file():
        raise Http404("No ChRIS_ui is served here.")
    response = FileResponse(page.open("rb"), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
