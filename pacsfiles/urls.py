from django.urls import path

from pacsfiles import views

urlpatterns = [
    path("pacsfiles/", views.PACSFileList.as_view(), name="pacsfile-list"),
    path(
        "pacsfiles/search/",
        views.PACSFileListQuerySearch.as_view(),
        name="pacsfile-list-query-search",
    ),
    path("pacsfiles/<int:pk>/", views.PACSFileDetail.as_view(), name="pacsfile-detail"),
    path(
        "pacsfiles/<int:pk>/<path:name>",
        views.PACSFileResource.as_view(),
        name="pacsfile-resource",
    ),
]
