"""Content negotiation that remembers its answers.

Clients send the same few Accept headers over and over, and working out which renderer one
selects was a tenth of the calls of a small request. The answer depends only on the view's
renderer classes, the format asked for and the Accept header, so it is kept under those.
"""

from rest_framework.negotiation import DefaultContentNegotiation

# Enough for every combination real clients send; a flood of made-up headers only empties it.
CACHE_ENTRIES = 512

_selections: dict[tuple, tuple[int, str]] = {}


class CachedContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        requested_format = format_suffix or request.query_params.get(
            self.settings.URL_FORMAT_OVERRIDE
        )
        key = (
            tuple(type(renderer) for renderer in renderers),
            requested_format,
            request.META.get("HTTP_ACCEPT"),
        )
        selection = _selections.get(key)
        if selection is None:
            # Refusals (406, unknown format) raise here and are never kept.
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            selection = (next(i for i, r in enumerate(renderers) if r is renderer), media_type)
            if len(_selections) >= CACHE_ENTRIES:
                _selections.clear()
            _selections[key] = selection
        index, media_type = selection
        return renderers[index], media_type
