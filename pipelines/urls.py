from django.urls import path

from pipelines import views

TYPED_DEFAULT_ROUTES = (
    ("string", "str", ("string", "path", "unextpath")),
    ("integer", "int", ("integer",)),
    ("float", "float", ("float",)),
    ("boolean", "bool", ("boolean",)),
)

urlpatterns = [
    path("pipelines/", views.PipelineList.as_view(), name="pipeline-list"),
    path(
        "pipelines/search/",
        views.PipelineListQuerySearch.as_view(),
        name="pipeline-list-query-search",
    ),
    path("pipelines/<int:pk>/", views.PipelineDetail.as_view(), name="pipeline-detail"),
    path(
        "pipelines/<int:pk>/json/",
        views.PipelineCustomJsonDetail.as_view(),
        name="pipeline-customjson-detail",
    ),
    path(
        "pipelines/<int:pk>/plugins/",
        views.PipelinePluginList.as_view(),
        name="pipeline-plugin-list",
    ),
    path(
        "pipelines/<int:pk>/pipings/",
        views.PipelinePipingList.as_view(),
        name="pipeline-pluginpiping-list",
    ),
    path(
        "pipelines/<int:pk>/parameters/",
        views.PipelineDefaultParameterList.as_view(),
        name="pipeline-defaultparameter-list",
    ),
    path(
        "pipelines/pipings/<int:pk>/",
        views.PluginPipingDetail.as_view(),
        name="pluginpiping-detail",
    ),
    *(
        path(
            f"pipelines/{kind}-parameter/<int:pk>/",
            views.DefaultPipingParameterDetail.as_view(parameter_types=types),
            name=f"defaultpiping{short}parameter-detail",
        )
        for kind, short, types in TYPED_DEFAULT_ROUTES
    ),
    path(
        "pipelines/sourcefiles/",
        views.PipelineSourceFileList.as_view(),
        name="pipelinesourcefile-list",
    ),
    path(
        "pipelines/sourcefiles/search/",
        views.PipelineSourceFileListQuerySearch.as_view(),
        name="pipelinesourcefile-list-query-search",
    ),
    path(
        "pipelines/sourcefiles/<int:pk>/",
        views.PipelineSourceFileDetail.as_view(),
        name="pipelinesourcefile-detail",
    ),
    path(
        "pipelines/sourcefiles/<int:pk>/<path:name>",
        views.PipelineSourceFileResource.as_view(),
        name="pipelinesourcefile-resource",
    ),
    path(
        "pipelines/<int:pk>/instances/",
        views.PipelineInstanceList.as_view(),
        name="pipelineinstance-list",
    ),
    path(
        "pipelines/instances/",
        views.AllPipelineInstanceList.as_view(),
        name="allpipelineinstance-list",
    ),
    path(
        "pipelines/instances/search/",
        views.AllPipelineInstanceListQuerySearch.as_view(),
        name="allpipelineinstance-list-query-search",
    ),
    path(
        "pipelines/instances/<int:pk>/",
        views.PipelineInstanceDetail.as_view(),
        name="pipelineinstance-detail",
    ),
    path(
        "pipelines/instances/<int:pk>/plugininstances/",
        views.PipelineInstancePluginInstanceList.as_view(),
        name="pipelineinstance-plugininstance-list",
    ),
    path("pipelines/<int:pk>/workflows/", views.WorkflowList.as_view(), name="workflow-list"),
    path("pipelines/workflows/", views.AllWorkflowList.as_view(), name="allworkflow-list"),
    path(
        "pipelines/workflows/search/",
        views.AllWorkflowListQuerySearch.as_view(),
        name="allworkflow-list-query-search",
    ),
    path(
        "pipelines/workflows/<int:pk>/",
        views.WorkflowDetail.as_view(),
        name="workflow-detail",
    ),
    path(
        "pipelines/workflows/<int:pk>/plugininstances/",
        views.WorkflowPluginInstanceList.as_view(),
        name="workflow-plugininstance-list",
    ),
]
