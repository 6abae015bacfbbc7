"""Drive caw 0.8.0 (the ``chris`` library; it has no CLI) through a seed-like scenario.

Runs inside .venvs/caw, never in the project venv: caw pins pyserde 0.7.

    .venvs/caw/bin/python tests/clients/caw_driver.py API_URL LOCAL_FILE DOWNLOAD_TO

Prints one JSON object with what each step observed; any exception is a traceback and exit 1.
"""

import json
import sys
import time
from pathlib import Path

from chris import ChrisClient
from chris.errors import ChrisIncorrectLoginError
from chris.types import PluginInstanceStatus
from chris.wait import wait_until_ready

FINAL = {
    PluginInstanceStatus.finishedSuccessfully,
    PluginInstanceStatus.finishedWithError,
    PluginInstanceStatus.cancelled,
}


def main(url: str, local_file: Path, download_to: Path) -> dict:
    report = {}
    # wait_until_ready yields only while GET users/ differs from the document it expects.
    report["ready"] = next(iter(wait_until_ready(url)), "ready")
    try:
        ChrisClient.from_login(url, "chris", "wrong-password")
        report["bad_login"] = "accepted"
    except ChrisIncorrectLoginError as error:
        report["bad_login"] = f"refused: {error}"

    chris = ChrisClient.from_login(url, "chris", "chris1234")
    report["username"] = chris.username
    uploaded = chris.upload(local_file, "clients/caw/data.txt")
    report["uploaded"] = {"fname": uploaded.fname, "fsize": uploaded.fsize}
    report["uploaded_found"] = [
        f.fname for f in chris.search_uploadedfiles("chris/uploads/clients/caw/")
    ]

    plugins = chris.search_plugin("pl-dircopy", "2.1.1")
    report["plugin_count"] = len(plugins)
    dircopy = chris.get_plugin_by_name("pl-dircopy")
    report["plugin"] = {"name": dircopy.name, "version": dircopy.version}
    instance = dircopy.create_instance({"dir": "chris/uploads/clients/caw"})
    deadline = time.monotonic() + 120
    while instance.status not in FINAL and time.monotonic() < deadline:
        time.sleep(1)
        instance = chris.get_plugin_instance(instance.id)
    report["status"] = instance.status.value
    feed = instance.get_feed()
    report["feed"] = {"id": feed.id, "name": feed.name}

    outputs = list(chris.search_files(fname=f"chris/feed_{feed.id}/"))
    report["output_fnames"] = [f.fname for f in outputs]
    output = next(f for f in outputs if f.fname.endswith("/data.txt"))
    output.download(download_to)
    report["downloaded_bytes"] = download_to.stat().st_size
    return report


if __name__ == "__main__":
    api_url, local, target = sys.argv[1:]
    print(json.dumps(main(api_url, Path(local), Path(target))))
