from django.apps import AppConfig


class ServiceFilesConfig(AppConfig):
    name = "servicefiles"
    verbose_name = "Service files"
