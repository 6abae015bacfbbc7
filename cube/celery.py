import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cube.settings")

app = Celery("cube")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def create_broker_folder(sender: Celery, **kwargs) -> None:
    folder = sender.conf.broker_transport_options.get("data_folder_in")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
