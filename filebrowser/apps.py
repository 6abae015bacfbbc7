from django.apps import AppConfig


class FileBrowserConfig(AppConfig):
    name = "filebrowser"
