from django.urls import path

from servicefiles import views

urlpatterns = [
    path("servicefiles/", views.ServiceFileList.as_view(), name="servicefile-list"),
    path(
        "servicefiles/search/",
        views.ServiceFileListQuerySearch.as_view(),
        name="servicefile-list-query-search",
    ),
    path("servicefiles/<int:pk>/", views.ServiceFileDetail.as_view(), name="servicefile-detail"),
    path(
        "servicefiles/<int:pk>/<path:name>",
        views.ServiceFileResource.as_view(),
        name="servicefile-resource",
    ),
]
