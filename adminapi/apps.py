from django.apps import AppConfig


class AdminApiConfig(AppConfig):
    name = "adminapi"
