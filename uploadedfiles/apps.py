from django.apps import AppConfig


class UploadedFilesConfig(AppConfig):
    name = "uploadedfiles"
