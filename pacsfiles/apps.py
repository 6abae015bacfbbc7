from django.apps import AppConfig


class PacsFilesConfig(AppConfig):
    name = "pacsfiles"
    verbose_name = "PACS files"
