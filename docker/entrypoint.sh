#!/bin/sh
# The image's entrypoint: the first argument picks the role.
#   web        gunicorn serving evcharge.wsgi on $PORT (WEB_CONCURRENCY workers); forwarded headers are
#              trusted only from FORWARDED_ALLOW_IPS (default 127.0.0.1: set the proxies' addresses/networks)
#   worker     celery worker: task queues $CELERY_QUEUES (-Q), event consumers $EVENTS_CONSUMERS (empty = all)
#   beat       celery beat (run exactly one)
#   ocpp-gateway  the OCPP gateway (manage.py ocpp_gateway) on $OCPP_PORT: chargers' WebSocket connections
#   migrate    manage.py migrate (a one-shot job before web and workers start)
#   manage     manage.py with the remaining arguments
#   healthcheck  the container's HEALTHCHECK, for whichever role this container runs
#   anything else is executed as given
set -eu
role_file=/tmp/evcharge-role

case "${1:-web}" in
  web)
    echo web > "$role_file"
    exec gunicorn evcharge.wsgi:application \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" \
      --threads "${WEB_THREADS:-4}" \
      --timeout "${WEB_TIMEOUT:-30}" \
      --worker-tmp-dir /tmp \
      --control-socket /tmp/gunicorn.ctl \
      --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
    ;;
  worker)
    echo worker > "$role_file"
    exec celery -A evcharge worker \
      --loglevel "${LOG_LEVEL:-INFO}" \
      --queues "${CELERY_QUEUES:-evcharge.tasks}" \
      --concurrency "${WORKER_CONCURRENCY:-2}" \
      --hostname "worker@%h"
    ;;
  beat)
    echo beat > "$role_file"
    exec celery -A evcharge beat --loglevel "${LOG_LEVEL:-INFO}" --schedule /tmp/celerybeat-schedule --pidfile=
    ;;
  ocpp-gateway)
    echo ocpp-gateway > "$role_file"
    exec python manage.py ocpp_gateway
    ;;
  migrate)
    exec python manage.py migrate --noinput
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  healthcheck)
    case "$(cat "$role_file" 2>/dev/null || echo none)" in
      web)
        exec python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=5)"
        ;;
      ocpp-gateway)
        exec python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('OCPP_PORT', '9000'), timeout=5)"
        ;;
      worker)
        exec celery -A evcharge inspect ping --destination "worker@$(hostname)" --timeout 5
        ;;
      *)
        exit 0  # beat and one-shot commands: the process being alive is the check
        ;;
    esac
    ;;
  *)
    exec "$@"
    ;;
esac
