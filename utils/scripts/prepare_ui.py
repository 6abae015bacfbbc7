"""Copy a built ChRIS_ui and point it at this server, as the upstream image's entrypoint does.

    utils/scripts/prepare_ui.py BUILD_DIR TARGET_DIR API_URL

ChRIS_ui bakes its backend URL, ``http://localhost:8000/api/v1/``, into the build (also as
``.../users/`` and ``.../auth-token/``). The upstream container image rewrites it with ``sed``
in every file when it starts; this does the same into TARGET_DIR, which is replaced whole.
"""

import shutil
import sys
from pathlib import Path

BAKED_URL = b"http://localhost:8000/api/v1/"
TEXT_SUFFIXES = {".html", ".js", ".mjs", ".css", ".json", ".map", ".txt", ".svg", ".webmanifest"}


def prepare(build: Path, target: Path, api_url: str) -> int:
    """Copy build into target with the baked URL replaced; return how many files changed."""
    if not (build / "index.html").is_file():
        raise SystemExit(f"prepare_ui: {build} has no index.html: not a ChRIS_ui build")
    if not api_url.endswith("/api/v1/"):
        raise SystemExit(f"prepare_ui: {api_url} must end in /api/v1/")
    staging = target.with_name(f"{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(build, staging)
    changed = 0
    for path in staging.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            content = path.read_bytes()
            if BAKED_URL in content:
                path.chmod(0o644)
                path.write_bytes(content.replace(BAKED_URL, api_url.encode()))
                changed += 1
    for path in [staging, *staging.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return changed


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    count = prepare(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
    print(f"prepare_ui: ChRIS_ui in {sys.argv[2]} talks to {sys.argv[3]} ({count} files)")
