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
    path("<int:pk>/comments/", views.FeedCommentList.as_view(), name="comment-list"),
    path(
        "<int:pk>/comments/search/",
        views.FeedCommentListQuerySearch.as_view(),
        name="comment-list-query-search",
    ),
    path("comments/<int:pk>/", views.CommentDetail.as_view(), name="comment-detail"),
    path("<int:pk>/tags/", views.FeedTagList.as_view(), name="feed-tag-list"),
    path("<int:pk>/taggings/", views.FeedTaggingList.as_view(), name="feed-tagging-list"),
    path("tags/", views.TagList.as_view(), name="tag-list"),
    path("tags/search/", views.TagListQuerySearch.as_view(), name="tag-list-query-search"),
    path("tags/<int:pk>/", views.TagDetail.as_view(), name="tag-detail"),
    path("tags/<int:pk>/feeds/", views.TagFeedList.as_view(), name="tag-feed-list"),
    path("tags/<int:pk>/taggings/", views.TagTaggingList.as_view(), name="tag-tagging-list"),
    path("taggings/<int:pk>/", views.TaggingDetail.as_view(), name="tagging-detail"),
]
