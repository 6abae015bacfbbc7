from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cube import ui
from users.views import AuthToken

handler404 = "cube.exceptions.not_found"

admin.site.site_header = "ChRIS Administration"
admin.site.site_title = "ChRIS Admin"

api_patterns = [
    path("auth-token/", AuthToken.as_view(), name="api-token-auth"),
    path("auth/", include("rest_framework.urls", namespace="rest_framework")),
    path("", include("users.urls")),
    path("", include("uploadedfiles.urls")),
    path("", include("plugins.urls")),
    path("", include("feeds.urls")),
    path("", include("pipelines.urls")),
    path("", include("chrisinstance.urls")),
    path("", include("pacsfiles.urls")),
    path("", include("servicefiles.urls")),
    path("", include("filebrowser.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_patterns)),
    # The staff JSON API must come before the admin site, which claims all of chris-admin/.
    path("chris-admin/api/v1/", include("adminapi.urls")),
    path("chris-admin/", admin.site.urls),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "schema/swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"
    ),
    # The same-origin ChRIS_ui, when configured: its paths are the rest of the site.
    re_path(r"^(?!api/|chris-admin/|schema/|static/)(?P<path>.*)$", ui.index, name="ui"),
]
