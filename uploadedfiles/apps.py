from django.apps import AppConfig


class UploadedFilesConfig(AppConfig):
    name = "uploadedfiles"
    verbose_name = "Uploaded files"
