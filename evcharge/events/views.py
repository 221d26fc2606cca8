import yaml
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from evcharge.events.catalog import asyncapi_document


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


@require_GET
def asyncapi_yaml(request):
    """The event catalog (AsyncAPI 3), public like the OpenAPI schema."""
    body = yaml.dump(asyncapi_document(), Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True)
    return HttpResponse(body, content_type="application/yaml; charset=utf-8")
