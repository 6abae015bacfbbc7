"""A local stand-in for a ChRIS store (FNNDSC/ChRIS_store) serving its real response shapes.

Plugins are served the way the store's views render them in Collection+JSON: plugin items
(``plugins/search/``, ``plugins/<id>/``) carry the plugin's fields as data and ``parameters``
and ``meta`` links; ``plugins/<id>/parameters/`` is a paginated list (10 a page, ``next``
links) of parameter items in the store's API types (``string``, ``integer``, ``boolean``...).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from plugins.fields import parse_cpu, parse_memory

PAGE_SIZE = 10
API_TYPES = {"str": "string", "int": "integer", "float": "float", "bool": "boolean",
             "path": "path", "unextpath": "unextpath"}  # fmt: skip
PLUGIN_FIELDS = (
    "id", "creation_date", "name", "version", "dock_image", "public_repo", "icon", "type",
    "stars", "authors", "title", "category", "description", "documentation", "license",
    "execshell", "selfpath", "selfexec", "min_number_of_workers", "max_number_of_workers",
    "min_cpu_limit", "max_cpu_limit", "min_memory_limit", "max_memory_limit", "min_gpu_limit",
    "max_gpu_limit",
)  # fmt: skip
LIMIT_PARSERS = {"min_cpu_limit": parse_cpu, "max_cpu_limit": parse_cpu,
                 "min_memory_limit": parse_memory, "max_memory_limit": parse_memory}  # fmt: skip


class FakeStore:
    """A ChRIS store at ``http://127.0.0.1:<port>/api/v1/`` holding the given descriptors."""

    def __init__(self, descriptors: list[dict]):
        self.plugins = [
            dict(descriptor, id=index) for index, descriptor in enumerate(descriptors, 1)
        ]
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/v1/"

    def __enter__(self) -> "FakeStore":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def plugin_url(self, plugin_id: int) -> str:
        return f"{self.url}plugins/{plugin_id}/"

    def plugin_item(self, plugin: dict) -> dict:
        values = {
            **{key: plugin.get(key, "") for key in PLUGIN_FIELDS},
            "creation_date": "2023-10-16T12:00:00.000000-04:00",
            "stars": 0,
        }
        for key, parse in LIMIT_PARSERS.items():
            values[key] = parse(plugin[key]) if plugin.get(key) not in ("", None) else None
        return {
            "href": self.plugin_url(plugin["id"]),
            "data": [{"name": key, "value": values[key]} for key in PLUGIN_FIELDS],
            "links": [
                {"rel": "parameters", "href": f"{self.plugin_url(plugin['id'])}parameters/"},
                {"rel": "meta", "href": f"{self.url}{plugin['id']}/"},
            ],
        }

    def parameter_item(self, plugin: dict, index: int, parameter: dict) -> dict:
        values = {
            "id": plugin["id"] * 100 + index,
            "name": parameter["name"],
            "type": API_TYPES[parameter["type"]],
            "optional": parameter.get("optional", False),
            "default": parameter.get("default"),
            "flag": parameter["flag"],
            "short_flag": parameter.get("short_flag", ""),
            "action": parameter.get("action", "store"),
            "help": parameter.get("help", ""),
            "ui_exposed": parameter.get("ui_exposed", True),
        }
        return {
            "href": f"{self.url}plugins/parameters/{values['id']}/",
            "data": [{"name": key, "value": value} for key, value in values.items()],
            "links": [{"rel": "plugin", "href": self.plugin_url(plugin["id"])}],
        }

    def answer(self, path: str, query: dict[str, str], href: str) -> tuple[int, dict]:
        parts = [part for part in path.removeprefix("/api/v1/").split("/") if part]
        collection: dict = {"version": "1.0", "href": href}
        if parts == ["plugins", "search"]:
            found = [
                plugin for plugin in self.plugins
                if plugin["name"] == query.get("name_exact", plugin["name"])
                and plugin["version"] == query.get("version", plugin["version"])
            ]  # fmt: skip
            if "name_exact_latest" in query:
                found = [p for p in self.plugins if p["name"] == query["name_exact_latest"]][-1:]
            collection.update(items=[self.plugin_item(p) for p in found], links=[])
            collection["total"] = len(found)
            return 200, collection
        plugin = None
        if len(parts) >= 2 and parts[0] == "plugins" and parts[1].isdigit():
            plugin = next((p for p in self.plugins if p["id"] == int(parts[1])), None)
        if plugin is not None and len(parts) == 2:
            collection.update(items=[self.plugin_item(plugin)], links=[])
            return 200, collection
        if plugin is not None and parts[2:] == ["parameters"]:
            limit = int(query.get("limit", PAGE_SIZE))
            offset = int(query.get("offset", 0))
            parameters = plugin["parameters"]
            page = parameters[offset : offset + limit]
            links = [{"rel": "plugin", "href": self.plugin_url(plugin["id"])}]
            base = f"{self.plugin_url(plugin['id'])}parameters/"
            if offset + limit < len(parameters):
                links.append(
                    {"rel": "next", "href": f"{base}?limit={limit}&offset={offset + limit}"}
                )
            if offset > 0:
                previous = max(0, offset - limit)
                links.append({"rel": "previous", "href": f"{base}?limit={limit}&offset={previous}"})
            collection.update(
                items=[
                    self.parameter_item(plugin, offset + index, parameter)
                    for index, parameter in enumerate(page)
                ],
                links=links,
                total=len(parameters),
            )
            return 200, collection
        collection["error"] = {"message": "Not found."}
        return 404, collection

    def handler(self) -> type[BaseHTTPRequestHandler]:
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parsed = urlparse(self.path)
                query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
                store.requests.append(self.path)
                href = f"http://{self.headers['Host']}{self.path}"
                status, collection = store.answer(parsed.path, query, href)
                body = json.dumps({"collection": collection}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.collection+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler
