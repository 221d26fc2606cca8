# One image for every process: web (gunicorn), worker, beat and migrate; the command picks the role
# (docker/entrypoint.sh). Build: docker build -t evcharge .   Run: docker run evcharge web|worker|beat|migrate
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with the runtime dependencies (wheels only; pip and its cache stay here) ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml ./
RUN python -m venv /opt/venv \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: -r requirements.txt

# --- runtime: the virtualenv, the sources, collected static files; no compilers, runs as non-root ---
FROM ${PYTHON_IMAGE} AS runtime
# Sources belong to root (read-only for the app user); Tilt's dev builds pass 10001 so live_update can sync.
ARG SOURCE_OWNER=root
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=evcharge.settings \
    STATIC_ROOT=/app/staticfiles \
    PORT=8000
RUN groupadd --system --gid 10001 evcharge \
 && useradd --system --uid 10001 --gid evcharge --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin evcharge
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY manage.py pyproject.toml ./
COPY docker/entrypoint.sh docker/entrypoint.sh
COPY --chown=${SOURCE_OWNER} evcharge evcharge
COPY --chown=${SOURCE_OWNER} apps apps
# Static files are collected at build time (the embedded mode needs no settings; nothing is written but staticfiles/).
RUN DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 python manage.py collectstatic --noinput --verbosity 0 \
 && rm -f /tmp/collectstatic.sqlite3 \
 && chmod 0755 docker/entrypoint.sh
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/app/docker/entrypoint.sh", "healthcheck"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
