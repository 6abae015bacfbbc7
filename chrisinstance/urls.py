from django.urls import path

from chrisinstance import views

urlpatterns = [
    path(
        "chrisinstance/<int:pk>/",
        views.ChrisInstanceDetail.as_view(),
        name="chrisinstance-detail",
    ),
]
