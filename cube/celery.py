import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cube.settings")

app = Celery("cube")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def create_broker_folder(sender: Celery, **kwargs) -> None:
    options = sender.conf.broker_transport_options
    for key in ("data_folder_in", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
