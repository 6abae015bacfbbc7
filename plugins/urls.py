from django.urls import path

from plugins import views
from plugins.models import ParameterType

urlpatterns = [
    path("computeresources/", views.ComputeResourceList.as_view(), name="computeresource-list"),
    path(
        "computeresources/search/",
        views.ComputeResourceListQuerySearch.as_view(),
        name="computeresource-list-query-search",
    ),
    path(
        "computeresources/<int:pk>/",
        views.ComputeResourceDetail.as_view(),
        name="computeresource-detail",
    ),
    path("plugins/metas/", views.PluginMetaList.as_view(), name="pluginmeta-list"),
    path(
        "plugins/metas/search/",
        views.PluginMetaListQuerySearch.as_view(),
        name="pluginmeta-list-query-search",
    ),
    path("plugins/metas/<int:pk>/", views.PluginMetaDetail.as_view(), name="pluginmeta-detail"),
    path(
        "plugins/metas/<int:pk>/plugins/",
        views.PluginMetaPluginList.as_view(),
        name="pluginmeta-plugin-list",
    ),
    path("plugins/", views.PluginList.as_view(), name="plugin-list"),
    path("plugins/search/", views.PluginListQuerySearch.as_view(), name="plugin-list-query-search"),
    path("plugins/<int:pk>/", views.PluginDetail.as_view(), name="plugin-detail"),
    path(
        "plugins/<int:pk>/parameters/",
        views.PluginParameterList.as_view(),
        name="pluginparameter-list",
    ),
    path(
        "plugins/parameters/<int:pk>/",
        views.PluginParameterDetail.as_view(),
        name="pluginparameter-detail",
    ),
    path(
        "plugins/<int:pk>/computeresources/",
        views.PluginComputeResourceList.as_view(),
        name="plugin-computeresource-list",
    ),
    path(
        "plugins/<int:pk>/instances/",
        views.PluginInstanceList.as_view(),
        name="plugininstance-list",
    ),
    path(
        "plugins/instances/",
        views.AllPluginInstanceList.as_view(),
        name="allplugininstance-list",
    ),
    path(
        "plugins/instances/search/",
        views.AllPluginInstanceListQuerySearch.as_view(),
        name="allplugininstance-list-query-search",
    ),
    path(
        "plugins/instances/<int:pk>/",
        views.PluginInstanceDetail.as_view(),
        name="plugininstance-detail",
    ),
    path(
        "plugins/instances/<int:pk>/descendants/",
        views.PluginInstanceDescendantList.as_view(),
        name="plugininstance-descendant-list",
    ),
    path(
        "plugins/instances/<int:pk>/parameters/",
        views.PluginInstanceParameterList.as_view(),
        name="plugininstance-parameter-list",
    ),
    path(
        "plugins/instances/<int:pk>/files/",
        views.PluginInstanceFileList.as_view(),
        name="plugininstance-file-list",
    ),
    path(
        "plugins/instances/<int:pk>/splits/",
        views.PluginInstanceSplitList.as_view(),
        name="plugininstancesplit-list",
    ),
    path(
        "plugins/instances/splits/<int:pk>/",
        views.PluginInstanceSplitDetail.as_view(),
        name="plugininstancesplit-detail",
    ),
    path("files/", views.FileList.as_view(), name="pluginfile-list"),
    path("files/search/", views.FileListQuerySearch.as_view(), name="pluginfile-list-query-search"),
    path("files/<int:pk>/", views.FileDetail.as_view(), name="pluginfile-detail"),
    path("files/<int:pk>/<path:name>", views.FileResource.as_view(), name="pluginfile-resource"),
    *(
        path(
            f"plugins/{kind}-parameter/<int:pk>/",
            views.TypedParameterDetail.as_view(parameter_type=kind),
            name=f"{kind}parameter-detail",
        )
        for kind in ParameterType.values
    ),
]
