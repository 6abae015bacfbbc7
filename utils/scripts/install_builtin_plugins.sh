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
# A later version of a plugin is built from the same sources (builtin_plugins/<name>, with
# PLUGIN_VERSION) into its own virtualenv, VENV_DIR-<name>-<version>, since one venv holds one
# version of a distribution; its JSON file is <name>-<version>.json.
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
  "pl-dircopy:2.1.2"
  "pl-unstack-folders:1.0.0"
  "pl-tsdircopy:1.2.1"
  "pl-topologicalcopy:1.0.2"
)

log() { printf '[install_builtin_plugins] %s\n' "$*" >&2; }

# The key of entry $1 (name:version): its name for the name's first entry, else
# name-version. It names the entry's JSON file and catalogue entry.
source_key() {
  local other
  for other in "${plugins[@]}"; do
    if [[ "${other%%:*}" == "${1%%:*}" ]]; then
      if [[ "$other" == "$1" ]]; then echo "${1%%:*}"; else echo "${1%%:*}-${1#*:}"; fi
      return
    fi
  done
}

# The virtualenv of entry $1.
venv_of() {
  local key
  key="$(source_key "$1")"
  if [[ "$key" == "${1%%:*}" ]]; then echo "$venv_dir"; else echo "$venv_dir-$key"; fi
}

mkdir -p "$out_dir"
mkdir -p "$(dirname "$venv_dir")"
venv_dir="$(cd "$(dirname "$venv_dir")" && pwd)/$(basename "$venv_dir")"
out_dir="$(cd "$out_dir" && pwd)"

for entry in "${plugins[@]}"; do
  venv="$(venv_of "$entry")"
  if [[ ! -x "$venv/bin/python" ]]; then
    log "creating virtualenv $venv"
    "$python" -m venv "$venv"
  fi
done

source_digest() {
  # Digest of every tracked-looking source file of one plugin dir (no build artefacts).
  (cd "$1" && find . -type f \( -name '*.py' -o -name '*.toml' -o -name '*.cfg' \) \
    -not -path '*/build/*' -not -path '*.egg-info*' -print0 | sort -z \
    | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

to_install=()
to_describe=()
for entry in "${plugins[@]}"; do
  key="$(source_key "$entry")"
  digest="$(source_digest "$repo_root/builtin_plugins/${entry%%:*}") ${entry#*:}"
  stamp="$(venv_of "$entry")/.installed-$key"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then
    log "$key is up to date"
  else
    to_install+=("$entry")
  fi
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$digest" || ! -f "$out_dir/$key.json" ]]; then
    to_describe+=("$key")
  fi
done

for entry in "${to_install[@]}"; do
  source="$repo_root/builtin_plugins/${entry%%:*}"
  log "installing ${entry%%:*} ${entry#*:} into $(venv_of "$entry")"
  PLUGIN_VERSION="${entry#*:}" "$(venv_of "$entry")/bin/python" -m pip install --quiet \
    --disable-pip-version-check "$source" >&2
  # Build artefacts land beside the sources with some setuptools versions.
  rm -rf "$source/build" "$source"/*.egg-info
done

for entry in "${plugins[@]}"; do
  name="${entry%%:*}"
  version="${entry#*:}"
  key="$(source_key "$entry")"
  venv="$(venv_of "$entry")"
  [[ " ${to_describe[*]} " == *" $key "* ]] || continue
  installed="$("$venv/bin/python" -c \
    "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$name")"
  if [[ "$installed" != "$version" ]]; then
    log "error: $name installed as $installed, expected $version"
    exit 1
  fi
  log "describing $name $version"
  # chris_plugin_info warns on stderr that the tag names no registry; show it only on failure.
  # It finds the console script through PATH.
  if ! PATH="$venv/bin:$PATH" "$venv/bin/chris_plugin_info" -d "fnndsc/$name:$version" \
    -r "https://github.com/FNNDSC/$name" "$name" >"$out_dir/$key.json.tmp" 2>"$out_dir/$key.err"; then
    cat "$out_dir/$key.err" >&2
    log "error: chris_plugin_info failed for $key"
    exit 1
  fi
  rm -f "$out_dir/$key.err"
  mv "$out_dir/$key.json.tmp" "$out_dir/$key.json"
  echo "$(source_digest "$repo_root/builtin_plugins/$name") $version" >"$venv/.installed-$key"
done

# Our chrisapp wrappers of heavy PyPI libraries (pfdicom_tagExtract, med2image: numpy,
# matplotlib, pydicom), with the descriptors of the upstream plugins of the same names.
# Each gets its own virtualenv, VENV_DIR-<name>, with the exact versions of
# builtin_plugins/<name>/pins.txt, and describes itself with --json (plugins/local_install.py).
# name|version|distribution|dock_image|interpreter in the image
isolated_plugins=(
  "pl-pfdicom_tagExtract|3.2.4|dcm_tagExtract|fnndsc/pl-pfdicom_tagextract:3.2.4|/usr/local/bin/python"
  "pl-med2img|1.1.12|med2img|fnndsc/pl-med2img:1.1.12|/usr/bin/python3"
)
isolated_keys=()
for entry in "${isolated_plugins[@]}"; do
  IFS='|' read -r name version distribution image execshell <<<"$entry"
  source="$repo_root/builtin_plugins/$name"
  venv="$venv_dir-$name"
  digest="$( (source_digest "$source"; sha256sum <"$source/pins.txt") | sha256sum | cut -d' ' -f1)"
  install=(--install)
  if [[ -f "$venv/.installed-$name" && "$(cat "$venv/.installed-$name")" == "$digest" ]]; then
    install=()
    if [[ -f "$out_dir/$name.json" ]]; then
      log "$name is up to date"
      isolated_keys+=("$name=$venv/bin")
      continue
    fi
  fi
  PYTHONPATH="$repo_root" "$python" -m plugins.local_install builtin "$source" \
    --venv "$venv" --python "$python" --requirements "$source/pins.txt" "${install[@]}" \
    --distribution "$distribution" --name "$name" --version "$version" --image "$image" \
    --public-repo "https://github.com/FNNDSC/$name" --execshell "$execshell" \
    --output "$out_dir/$name.json"
  echo "$digest" >"$venv/.installed-$name"
  isolated_keys+=("$name=$venv/bin")
done

log "writing $out_dir/catalogue.json"
names=()
for entry in "${plugins[@]}"; do
  names+=("$(source_key "$entry")=$(venv_of "$entry")/bin")
done
names+=("${isolated_keys[@]}")
# Under the catalogue's lock, atomically; plugins added by `manage.py install_plugin` stay.
# The descriptions get their images' selfpath and execshell for CUBE (the catalogue has the
# venvs' scripts): CUBE keeps 50 characters of execshell, and a pfcon runs the real images.
PYTHONPATH="$repo_root" "$python" -m plugins.local_install catalogue "$out_dir" "${names[@]}"
log "done: ${#names[@]} plugins in $venv_dir"
