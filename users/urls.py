from django.urls import path

from users import views

urlpatterns = [
    path("users/", views.UserCreate.as_view(), name="user-list"),
    path("users/<int:pk>/", views.UserDetail.as_view(), name="user-detail"),
]
