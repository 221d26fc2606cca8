import csv
import io
import re
from collections.abc import Iterable, Iterator

from rest_framework.renderers import BaseRenderer


class _Echo:
    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def safe_cell(value: object) -> object:
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a leading single quote
    (OWASP's CSV injection advice); numbers, and text that is only a number, stay as they are."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """CSV text one line at a time, for a StreamingHttpResponse; every cell through safe_cell."""
    writer = csv.writer(_Echo())
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


class CSVRenderer(BaseRenderer):
    """Makes `?format=csv` (and `Accept: text/csv`) a known format; the report views stream the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data if isinstance(data, list) else [data]
        if not rows or not isinstance(rows[0], dict):
            return ""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
        return out.getvalue()
