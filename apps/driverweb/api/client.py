from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str:
    """The client's address as the API's throttles see it: the socket's, unless NUM_PROXIES trusted proxies
    (the chart's ingress) set X-Forwarded-For; behind a proxy, the socket's address is the proxy's, shared by all."""
    return BaseThrottle().get_ident(request) or ""
