"""`?limit=&offset=` paging for every list: a bad value is refused with 400 naming it, never ignored."""

import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_OFFSET = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,12}")


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = 200
    max_offset = MAX_OFFSET

    def paginate_queryset(self, queryset, request, view=None):
        self._validate(request)
        return super().paginate_queryset(queryset, request, view)

    def _validate(self, request) -> None:
        errors: dict[str, list[str]] = {}
        self._limit = self._parse(request, self.limit_query_param, 1, self.max_limit, self.default_limit, errors)
        self._offset = self._parse(request, self.offset_query_param, 0, self.max_offset, 0, errors)
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _parse(request, name: str, low: int, high: int, default: int, errors: dict) -> int:
        values = request.query_params.getlist(name)
        if not values or values == [""]:
            return default
        if len(values) > 1:
            errors[name] = ["Give this parameter once."]
            return default
        raw = values[0]
        if not _DIGITS.fullmatch(raw):
            errors[name] = [f"A whole number from {low} to {high} is required."]
            return default
        value = int(raw)
        if value < low:
            errors[name] = [f"Ensure this value is greater than or equal to {low}."]
        elif value > high:
            errors[name] = [f"Ensure this value is less than or equal to {high}."]
        return value

    def get_limit(self, request):
        if not hasattr(self, "_limit"):
            self._validate(request)
        return self._limit

    def get_offset(self, request):
        if not hasattr(self, "_offset"):
            self._validate(request)
        return self._offset

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated

    def get_schema_operation_parameters(self, view):
        return paging_parameters(self.default_limit, self.max_limit, self.max_offset)


def paging_parameters(default_limit: int, max_limit: int, max_offset: int) -> list[dict]:
    return [
        {
            "name": "limit",
            "required": False,
            "in": "query",
            "description": f"Items per page, 1 to {max_limit} (default {default_limit}); anything else answers 400.",
            "schema": {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
        },
        {
            "name": "offset",
            "required": False,
            "in": "query",
            "description": "Items to skip, 0 or more (default 0); anything else answers 400.",
            "schema": {"type": "integer", "minimum": 0, "maximum": max_offset, "default": 0},
        },
    ]
