#!/usr/bin/env bash
# Install the built-in ChRIS plugins (builtin_plugins/*) into one virtualenv, write their
# JSON representations and the localcompute catalogue.
#
#   utils/scripts/install_builtin_plugins.sh [VENV_DIR] [OUT_DIR]
#
# VENV_DIR defaults to .venvs/plugins and OUT_DIR to var/plugins (both under the repo root).
# OUT_DIR receives <plugin name>.json for every plugin (what CUBE registers) and
# catalogue.json (what localcompute reads through LOCALCOMPUTE_PLUGINS).
# Re-running is cheap: a plugin whose sources did not change since its last install is
# skipped. Progress goes to stderr. PYTHON selects the interpreter for a new venv.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv_dir="${1:-$repo_root/.venvs/plugins}"
out_dir="${2:-$repo_root/var/plugins}"
python="${PYTHON:-python3}"

# name:version pairs; the dock_image tag is fnndsc/<name>:<version>.
plugins=(
  "pl-dircopy:2.1.1"
  "pl-topologicalcopy:1.0.12"
  "pl-simplefsapp:1.0.1"
  "pl-simpledsapp:2.1.3"
)

log() { printf '[install_builtin_plugins] %s\n' "$*" >&2; }

mkdir -p "$out_dir"
mkdir -p "$(dirname "$venv_dir")"
venv_dir="$(cd "$(dirname "$venv_dir")" && pwd)/$(basename "$venv_dir")"
out_dir="$(cd "$out_dir" && pwd)"

if [[ ! -x "$venv_dir/bin/python" ]]; then
  log "creating virtualenv $venv_dir"
  "$python" -m venv "$venv_dir"
fi

source_digest() {
  # Digest of every tracked-looking source file of one plugin dir (no build artefacts).
  (cd "$1" && find . -type f \( -name '*.py' -o -name '*.toml' -o -name '*.cfg' \) \
    -not -path '*/build/*' -not -path '*.egg-info*' -print0 | sort -z \
    | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

to_install=()
to_describe=()
for entry in "${plugins[@]}"; do
  name="${entry%%:*}"
  digest="$(source_digest "$repo_root/builtin_plugins/$name")"
  stamp="$venv_dir/.installed-$name"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then
    log "$name is up to date"
  else
    to_install+=("$name")
  fi
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$digest" || ! -f "$out_dir/$name.json" ]]; then
    to_describe+=("$name")
  fi
done

if ((${#to_install[@]})); then
  log "installing ${to_install[*]}"
  paths=()
  for name in "${to_install[@]}"; do
    paths+=("$repo_root/builtin_plugins/$name")
  done
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check "${paths[@]}" >&2
  # Build artefacts land beside the sources with some setuptools versions.
  for path in "${paths[@]}"; do
    rm -rf "$path/build" "$path"/*.egg-info
  done
fi

for entry in "${plugins[@]}"; do
  name="${entry%%:*}"
  version="${entry#*:}"
  [[ " ${to_describe[*]} " == *" $name "* ]] || continue
  installed="$("$venv_dir/bin/python" -c \
    "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$name")"
  if [[ "$installed" != "$version" ]]; then
    log "error: $name installed as $installed, expected $version"
    exit 1
  fi
  log "describing $name $version"
  # chris_plugin_info warns on stderr that the tag names no registry; show it only on failure.
  # It finds the console script through PATH.
  if ! PATH="$venv_dir/bin:$PATH" "$venv_dir/bin/chris_plugin_info" -d "fnndsc/$name:$version" \
    -r "https://github.com/FNNDSC/$name" "$name" >"$out_dir/$name.json.tmp" 2>"$out_dir/$name.err"; then
    cat "$out_dir/$name.err" >&2
    log "error: chris_plugin_info failed for $name"
    exit 1
  fi
  rm -f "$out_dir/$name.err"
  mv "$out_dir/$name.json.tmp" "$out_dir/$name.json"
  source_digest "$repo_root/builtin_plugins/$name" >"$venv_dir/.installed-$name"
done

log "writing $out_dir/catalogue.json"
names=()
for entry in "${plugins[@]}"; do
  names+=("${entry%%:*}")
done
"$python" - "$out_dir" "${names[@]}" <<'PY'
import json
import os
import sys

out_dir, names = sys.argv[1], sys.argv[2:]
entries = []
for name in names:
    with open(os.path.join(out_dir, f"{name}.json")) as f:
        plugin = json.load(f)
    entries.append(
        {
            "image": plugin["dock_image"],
            "name": plugin["name"],
            "version": plugin["version"],
            "selfexec": plugin["selfexec"],
            "executable": os.path.join(plugin["selfpath"], plugin["selfexec"]),
        }
    )
tmp = os.path.join(out_dir, "catalogue.json.tmp")
with open(tmp, "w") as f:
    json.dump({"plugins": entries}, f, indent=2)
    f.write("\n")
os.replace(tmp, os.path.join(out_dir, "catalogue.json"))
PY
log "done: ${#names[@]} plugins in $venv_dir"
