import gc
import os

from django.core.asgi import get_asgi_application

from evcharge.platform.startup import refuse_to_start_on_check_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
application = get_asgi_application()
refuse_to_start_on_check_errors()

# As in wsgi.py: keep start-up objects out of the collector's full passes.
gc.collect()
gc.freeze()
