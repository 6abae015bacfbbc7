from django.urls import path

from filebrowser import views

urlpatterns = [
    path("filebrowser/", views.FolderList.as_view(), name="filebrowserpath-list"),
    path(
        "filebrowser/search/",
        views.FolderListQuerySearch.as_view(),
        name="filebrowserpath-list-query-search",
    ),
    path("filebrowser/<path:path>/", views.FolderDetail.as_view(), name="filebrowserpath"),
    path(
        "filebrowser-files/<path:path>/",
        views.FolderFileList.as_view(),
        name="filebrowserpathfile-list",
    ),
]
