"""localcompute: a pfcon-compatible compute service that runs installed plugins locally.

CUBE talks to it only over HTTP, exactly as to pfcon (v6 API). Start it with
``python -m localcompute``; see ``localcompute/README.md`` for its settings.
"""
