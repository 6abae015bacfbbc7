"""Django-free client for the pfcon v6 HTTP API."""

from .client import PfconClient, PluginJobFields, Timeouts
from .exceptions import PfconError

__all__ = ["PfconClient", "PfconError", "PluginJobFields", "Timeouts"]
