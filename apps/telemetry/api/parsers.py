import orjson
from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

READ_CHUNK_BYTES = 64 * 1024


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


def _declared_length(meta) -> int | None:
    try:
        return int(meta.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def read_bounded(stream, limit: int) -> bytes:
    """At most `limit` bytes of the stream, read in small chunks; BodyTooLarge as soon as one more arrives."""
    chunks, size = [], 0
    while True:
        chunk = stream.read(min(READ_CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"The body is larger than {limit} bytes; send smaller batches.")
        chunks.append(chunk)


class OrjsonParser(BaseParser):
    """application/json parsed by orjson: a 1000-reading batch decodes in about a quarter of the time the
    standard library takes. Like DRF's JSONParser it refuses NaN/Infinity; it also refuses integers beyond
    64 bits, which no column could store.

    The body is bounded by TELEMETRY_MAX_BODY_BYTES: a larger declared Content-Length is refused (413) before
    anything is read, and a body streamed without one (chunked, where the server delimits it) is read in
    chunks and refused as soon as it passes the limit."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.TELEMETRY_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        meta = request.META if request is not None else {}
        declared = _declared_length(meta)
        if declared is not None and declared > limit:
            raise BodyTooLarge(f"The body ({declared} bytes) is larger than {limit} bytes; send smaller batches.")
        if stream is None:
            return None
        return parse_json_bounded(stream, limit=limit)


def parse_json_bounded(stream, *, limit: int | None = None):
    limit = settings.TELEMETRY_MAX_BODY_BYTES if limit is None else limit
    try:
        return orjson.loads(read_bounded(stream, limit))
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
