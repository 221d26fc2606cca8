"""The OpenAPI schema says what the API really answers.

`AutoSchema` (DEFAULT_SCHEMA_CLASS) documents, on every operation, the problem+json errors the platform can give
it (bad input, credentials, role, missing object, body size, throttling) and documents every GET list as the
page it answers; a view still declares its own business answers (409, 422, ...) with `extend_schema`, and gets
the `Problem` body for them. `postprocess_paging` gives every paged list the same validated
`limit`/`offset` parameters.
"""

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.settings import api_settings

from evcharge.actor import ADMIN, DRIVER, OPERATOR
from evcharge.api.authentication import accepted_credentials
from evcharge.api.errors import PROBLEM_CONTENT_TYPE
from evcharge.api.pagination import LimitOffsetPagination, paging_parameters
from evcharge.api.permissions import _HasRole

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem: what went wrong, for a person (`detail`) and a program (`type`, `code`).",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "A stable machine-readable reason, where there is one."},
        "errors": {
            "type": "object",
            "description": "Bad input: each offending field, parameter or item (dotted path) with its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "retry_after_seconds": {"type": "integer", "description": "429 only: when to try again."},
    },
    "required": ["type", "title", "status", "detail"],
}

DESCRIPTIONS = {
    400: "Invalid input: `errors` names each bad field or parameter.",
    401: "Missing, invalid or expired credentials.",
    403: "Your role (or operator) may not do this.",
    404: "Not found, or not yours to see.",
    405: "Method not allowed.",
    406: "Not acceptable.",
    409: "Conflicts with the current state.",
    412: "Precondition failed.",
    413: "The request body is too large.",
    415: "Unsupported media type: send application/json.",
    422: "Well-formed, but refused by a business rule.",
    429: "Too many requests; `Retry-After` says when to try again.",
    503: "A dependency is unavailable; try again later.",
}
_EVERY_ROLE = {DRIVER, OPERATOR, ADMIN}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            self._add_problems(operation)
            operation.setdefault("security", [])  # no credentials at all: said explicitly, not left out
        return operation

    def _get_paginator(self):
        # Plain APIViews page their lists by hand with the project's paginator: document them as pages too.
        if self.method == "GET" and not isinstance(self.view, GenericAPIView):
            return LimitOffsetPagination()
        return super()._get_paginator()

    def _problem_statuses(self, operation: dict) -> set[int]:
        locations = {parameter.get("in") for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        statuses: set[int] = set()
        if has_body or locations & {"query", "header"}:
            statuses.add(400)
        if has_body:
            statuses |= {413, 415}
        if "path" in locations:
            statuses.add(404)
        if self.view.get_authenticators():
            statuses.add(401)
        if self._role_restricted():
            statuses.add(403)
        if self.view.get_throttles():
            statuses.add(429)
        return statuses

    def _role_restricted(self) -> bool:
        for permission in self.view.get_permissions():
            if isinstance(permission, (AllowAny, IsAuthenticated)):
                continue
            if isinstance(permission, _HasRole) and set(permission.roles) >= _EVERY_ROLE:
                continue
            return True
        return False

    def _throttle_description(self, description: str) -> str:
        """Names each limit the route counts against, with its setting and default rate."""
        rates = api_settings.DEFAULT_THROTTLE_RATES
        scopes = [
            getattr(t, "scope", None) or getattr(self.view, "throttle_scope", None) for t in self.view.get_throttles()
        ]
        limits = [f"`THROTTLE_{scope.upper()}` ({rates.get(scope)})" for scope in dict.fromkeys(scopes) if scope]
        if not limits or "THROTTLE_" in description:
            return description or DESCRIPTIONS[429]
        return f"{description or DESCRIPTIONS[429]} Limits: {', '.join(limits)}."

    def _add_problems(self, operation: dict) -> None:
        problem = ResolvedComponent(
            name="Problem", type=ResolvedComponent.SCHEMA, object="Problem", schema=PROBLEM_SCHEMA
        )
        self.registry.register_on_missing(problem)
        content = {PROBLEM_CONTENT_TYPE: {"schema": problem.ref}}
        responses = operation["responses"]
        for status in self._problem_statuses(operation):
            responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
        if "401" in responses and responses["401"].get("description") in (None, "", DESCRIPTIONS[401]):
            accepted = accepted_credentials(self.view.get_authenticators())
            responses["401"]["description"] = f"{DESCRIPTIONS[401]} This route takes {accepted}; `code` says why."
        for code, response in responses.items():
            if code[0] in "45" and not response.get("content"):
                response["content"] = content
                response["description"] = response.get("description") or DESCRIPTIONS.get(int(code), "")
            if code == "429":
                response["description"] = self._throttle_description(response.get("description", ""))
                response.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
        operation["responses"] = dict(sorted(responses.items()))


_PAGING = {("limit", "query"), ("offset", "query")}


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return components.get(ref.rsplit("/", 1)[1], {})
    return schema


def postprocess_paging(result, generator, request, public):
    """Every GET answering a page ({count, next, previous, results}) takes the same validated limit/offset."""
    components = result.get("components", {}).get("schemas", {})
    paginator = LimitOffsetPagination()
    for item in result.get("paths", {}).values():
        operation = item.get("get")
        if not operation:
            continue
        body = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
        page = _resolve(body.get("schema", {}), components) if body else {}
        if not {"count", "results"} <= set(page.get("properties", {})):
            continue
        others = [p for p in operation.get("parameters", []) if (p["name"], p["in"]) not in _PAGING]
        paging = paging_parameters(paginator.default_limit, paginator.max_limit, paginator.max_offset)
        operation["parameters"] = sorted(others + paging, key=lambda p: (p["in"] != "path", p["name"]))
        responses = operation["responses"]
        if "400" not in responses:
            responses["400"] = {
                "description": DESCRIPTIONS[400],
                "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
            operation["responses"] = dict(sorted(responses.items()))
    return result
