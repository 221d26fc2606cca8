"""The API's JSON parser: DRF's, with a nesting limit checked before anything recurses into the document."""

import codecs
import re
from itertools import accumulate, repeat
from operator import sub

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_BRACKETS_ONLY = bytes(range(256)).translate(None, b"[]{}")
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_OPEN, _CLOSE = ord("["), ord("]")


def json_depth(document: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, found without recursion: strings are
    dropped, the brackets left are summed (+1 open, -1 close) in C-level iteration."""
    brackets = _STRING.sub(b"", document).translate(_AS_SQUARE, _BRACKETS_ONLY)
    if not brackets:
        return 0
    middle = (_OPEN + _CLOSE) // 2  # "[" -> +1, "]" -> -1
    return max(accumulate(map(sub, repeat(middle), brackets)))


class JSONParser(parsers.JSONParser):
    """application/json; a document nested deeper than API_MAX_JSON_DEPTH is a 400, never a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(stream.read(), encoding)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        limit = settings.API_MAX_JSON_DEPTH
        if json_depth(text.encode()) > limit:  # scanned as UTF-8 whatever the body's charset
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels.")
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
