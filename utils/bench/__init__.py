"""CUBE's performance benchmarks, run with ``make bench`` (``python -m utils.bench``).

Each benchmark starts real stacks as subprocesses (temporary CUBE_VAR_DIR, free ports on
127.0.0.1), measures over HTTP, and prints every figure next to a baseline measured in the
same run. See docs/benchmarks.md.
"""
