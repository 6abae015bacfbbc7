from django.urls import path

from uploadedfiles import views

urlpatterns = [
    path("uploadedfiles/", views.UploadedFileList.as_view(), name="uploadedfile-list"),
    path(
        "uploadedfiles/search/",
        views.UploadedFileListQuerySearch.as_view(),
        name="uploadedfile-list-query-search",
    ),
    path("uploadedfiles/<int:pk>/", views.UploadedFileDetail.as_view(), name="uploadedfile-detail"),
    path(
        "uploadedfiles/<int:pk>/<path:name>",
        views.UploadedFileResource.as_view(),
        name="uploadedfile-resource",
    ),
]
