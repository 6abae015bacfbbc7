from django.apps import AppConfig


class ChrisInstanceConfig(AppConfig):
    name = "chrisinstance"
