# CUBE's web, worker and beat image: `docker compose up` builds it from this repository.
#
#   docker build -t cube .
#   docker run cube gunicorn cube.wsgi ...          (see docker-compose.yml for each process)
#
# Plugins run in pfcon's containers, not here; the image only carries the built-in plugins'
# JSON representations (CUBE_PLUGINS_DIR) that `manage.py setup_compute` registers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=cube.settings \
    CUBE_VAR_DIR=/var/lib/cube \
    CUBE_PLUGINS_DIR=/opt/cube/plugins

WORKDIR /opt/cube/app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# The descriptors come from the plugins' own --json output, so install them once, describe
# them, and drop the venv: pfcon runs the real images (fnndsc/<name>:<version>).
RUN utils/scripts/install_builtin_plugins.sh /tmp/plugins-venv "$CUBE_PLUGINS_DIR" \
    && rm -rf /tmp/plugins-venv /tmp/plugins-venv-* builtin_plugins/*/build builtin_plugins/*/*.egg-info

RUN useradd --system --home-dir "$CUBE_VAR_DIR" --create-home --uid 1001 cube \
    && python manage.py collectstatic --noinput -v0 \
    && mkdir -p "$CUBE_VAR_DIR/upload-spool" \
    && chown -R cube "$CUBE_VAR_DIR"

USER cube
EXPOSE 8000
CMD ["gunicorn", "cube.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--worker-class", "gthread", "--timeout", "600", "--access-logfile", "-"]
