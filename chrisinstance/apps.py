from django.apps import AppConfig


class ChrisInstanceConfig(AppConfig):
    name = "chrisinstance"
    verbose_name = "ChRIS instance"
