"""A small client for a ChRIS store's plugin API (Collection+JSON), Django-free.

A store (FNNDSC/ChRIS_store) answers ``<api>/plugins/search/?name_exact=&version=`` and
``<api>/plugins/<id>/`` with plugin items whose data are the plugin's fields and whose
``parameters`` link leads to a paginated list of parameter items. Parameter types come in
the store's API spelling (``string``, ``integer``, ``boolean``) and are turned back into a
plugin's JSON description, the shape ``register_plugin`` takes.
"""

from urllib.parse import urljoin

import requests

ACCEPT = "application/vnd.collection+json, application/json;q=0.9"
TIMEOUT_SECONDS = 30
MAX_PAGES = 100
# The store's API parameter types and the plugin descriptor's types.
PARAMETER_TYPES = {
    "string": "str",
    "integer": "int",
    "float": "float",
    "boolean": "bool",
    "path": "path",
    "unextpath": "unextpath",
}
PLUGIN_FIELDS = (
    "name", "version", "dock_image", "public_repo", "icon", "type", "authors", "title",
    "category", "description", "documentation", "license", "execshell", "selfpath", "selfexec",
    "min_number_of_workers", "max_number_of_workers", "min_cpu_limit", "max_cpu_limit",
    "min_memory_limit", "max_memory_limit", "min_gpu_limit", "max_gpu_limit",
)  # fmt: skip
PARAMETER_FIELDS = (
    "name", "type", "optional", "default", "flag", "short_flag", "action", "help", "ui_exposed",
)  # fmt: skip


class StoreError(Exception):
    """The store could not be reached or gave no usable plugin description."""


def get_document(url: str, params: dict | None = None) -> dict:
    """The JSON document at url; a Collection+JSON error becomes a StoreError."""
    try:
        response = requests.get(
            url, params=params, headers={"Accept": ACCEPT}, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        raise StoreError(f"could not reach {url}: {error}") from error
    try:
        document = response.json()
    except ValueError:
        raise StoreError(f"{url} answered HTTP {response.status_code}, not JSON") from None
    collection = document.get("collection") if isinstance(document, dict) else None
    if isinstance(collection, dict) and collection.get("error"):
        raise StoreError(f"{url}: {collection['error'].get('message', 'error')}")
    if not response.ok:
        raise StoreError(f"{url} answered HTTP {response.status_code}")
    if not isinstance(document, dict):
        raise StoreError(f"{url} did not answer a JSON object")
    return document


def get_collection(url: str, params: dict | None = None) -> dict:
    collection = get_document(url, params).get("collection")
    if not isinstance(collection, dict):
        raise StoreError(f"{url} did not answer a Collection+JSON document")
    return collection


def item_values(item: dict) -> dict:
    return {entry["name"]: entry.get("value") for entry in item.get("data", [])}


def link(document: dict, rel: str) -> str | None:
    return next((entry["href"] for entry in document.get("links", []) if entry["rel"] == rel), None)


def all_items(url: str) -> list[dict]:
    """Every item of a paginated collection, following its ``next`` links."""
    items: list[dict] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            return items
        collection = get_collection(next_url)
        items.extend(collection.get("items", []))
        next_url = link(collection, "next")
    raise StoreError(f"{url} has more than {MAX_PAGES} pages")


def descriptor_from_item(item: dict) -> dict:
    """A plugin's JSON description from a store's plugin item and its parameters."""
    values = item_values(item)
    descriptor = {key: values[key] for key in PLUGIN_FIELDS if values.get(key) is not None}
    parameters_url = link(item, "parameters")
    if parameters_url is None:
        raise StoreError(f"the plugin {values.get('name')} has no parameters link")
    descriptor["parameters"] = []
    for parameter in all_items(parameters_url):
        fields = item_values(parameter)
        entry = {key: fields.get(key) for key in PARAMETER_FIELDS if key in fields}
        entry["type"] = PARAMETER_TYPES.get(fields.get("type"), fields.get("type"))
        descriptor["parameters"].append(entry)
    return descriptor


def plugin_at(url: str) -> dict:
    """The JSON description of the plugin at a store URL (…/api/v1/plugins/<id>/).

    A URL that serves a plugin's JSON description itself is accepted too.
    """
    document = get_document(url)
    collection = document.get("collection")
    if collection is None and isinstance(document.get("parameters"), list):
        return document
    items = collection.get("items") if isinstance(collection, dict) else None
    if not items:
        raise StoreError(f"there is no plugin at {url}")
    return descriptor_from_item(items[0])


def find_plugin(store_url: str, name: str, version: str = "") -> dict:
    """The JSON description of a store's plugin by name and version (the newest if empty)."""
    search_url = urljoin(store_url.rstrip("/") + "/", "plugins/search/")
    params = {"name_exact": name, "version": version} if version else {"name_exact_latest": name}
    items = get_collection(search_url, params).get("items", [])
    if not items:
        wanted = f"{name} {version}" if version else name
        raise StoreError(f"the store at {store_url} has no plugin {wanted}")
    return descriptor_from_item(items[0])
