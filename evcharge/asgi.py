import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
application = get_asgi_application()

# As in wsgi.py: keep start-up objects out of the collector's full passes.
gc.collect()
gc.freeze()
