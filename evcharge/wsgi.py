import gc
import os

from django.core.wsgi import get_wsgi_application

from evcharge.platform.startup import refuse_to_start_on_check_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
application = get_wsgi_application()
refuse_to_start_on_check_errors()

# What start-up loaded (Django, every context, their modules) lives as long as the process. Frozen, it is
# left out of the collector's full passes, which otherwise walk it and stall a request now and then.
gc.collect()
gc.freeze()
