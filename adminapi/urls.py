from django.urls import path

from adminapi import views

urlpatterns = [
    path("", views.PluginAdminList.as_view(), name="admin-plugin-list"),
    path("<int:pk>/", views.PluginAdminDetail.as_view(), name="admin-plugin-detail"),
    path(
        "computeresources/",
        views.ComputeResourceAdminList.as_view(),
        name="admin-computeresource-list",
    ),
    path(
        "computeresources/<int:pk>/",
        views.ComputeResourceAdminDetail.as_view(),
        name="admin-computeresource-detail",
    ),
]
