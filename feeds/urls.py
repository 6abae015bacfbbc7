from django.urls import path

from feeds import views

urlpatterns = [
    path("", views.FeedList.as_view(), name="feed-list"),
    path("search/", views.FeedListQuerySearch.as_view(), name="feed-list-query-search"),
    path("publicfeeds/", views.PublicFeedList.as_view(), name="publicfeed-list"),
    path(
        "publicfeeds/search/",
        views.PublicFeedListQuerySearch.as_view(),
        name="publicfeed-list-query-search",
    ),
    path("<int:pk>/", views.FeedDetail.as_view(), name="feed-detail"),
    path("note<int:pk>/", views.NoteDetail.as_view(), name="note-detail"),
    path("<int:pk>/files/", views.FeedFileList.as_view(), name="feedfile-list"),
    path(
        "<int:pk>/plugininstances/",
        views.FeedPluginInstanceList.as_view(),
        name="feed-plugininstance-list",
    ),
]
