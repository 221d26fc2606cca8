"""QR codes for connectors: one image (PNG/SVG) or printable sheets (a grid per page)."""

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import segno
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont


def connector_url(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/c/{code}"


def qr_png(code: str, *, scale: int = 10, border: int = 4) -> bytes:
    buffer = io.BytesIO()
    segno.make(connector_url(code), error="m").save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_svg(code: str, *, scale: int = 10, border: int = 4) -> bytes:
    buffer = io.BytesIO()
    segno.make(connector_url(code), error="m").save(
        buffer, kind="svg", scale=scale, border=border, xmldecl=True, svgclass=None, lineclass=None
    )
    return buffer.getvalue()


@dataclass(frozen=True)
class Label:
    code: str
    station_name: str
    connector_line: str  # e.g. "Charger AB-1 · connector 2 · CCS2 150 kW"


# A4 at 150 dpi, 3 x 4 labels per page.
PAGE_SIZE = (1240, 1754)
COLUMNS, ROWS = 3, 4
MARGIN = 60
QR_SIZE = 270


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType support
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def sheet_pages(labels: Iterable[Label], *, progress=None) -> Iterator[Image.Image]:
    """Yields page images, each a grid of QR codes with the station name, connector and code under each.
    `progress` (e.g. a tqdm bar) is advanced once per label."""
    per_page = COLUMNS * ROWS
    cell_w = (PAGE_SIZE[0] - 2 * MARGIN) // COLUMNS
    cell_h = (PAGE_SIZE[1] - 2 * MARGIN) // ROWS
    title_font, small_font, code_font = _font(24), _font(18), _font(30)
    page: Image.Image | None = None
    draw: ImageDraw.ImageDraw | None = None
    for count, label in enumerate(labels):
        slot = count % per_page
        if slot == 0:
            if page is not None:
                yield page
            page = Image.new("RGB", PAGE_SIZE, "white")
            draw = ImageDraw.Draw(page)
        assert page is not None and draw is not None
        x0 = MARGIN + (slot % COLUMNS) * cell_w
        y0 = MARGIN + (slot // COLUMNS) * cell_h
        qr = segno.make(connector_url(label.code), error="m")
        buffer = io.BytesIO()
        qr.save(buffer, kind="png", scale=max(1, QR_SIZE // qr.symbol_size(border=4)[0]), border=4)
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        page.paste(image, (x0 + (cell_w - image.width) // 2, y0 + 10))
        text_y = y0 + 20 + image.height
        text_width = cell_w - 20
        for text, font in (
            (label.station_name, title_font),
            (label.connector_line, small_font),
            (label.code, code_font),
        ):
            text = _fit(draw, text, font, text_width)
            width = draw.textlength(text, font=font)
            draw.text((x0 + (cell_w - width) / 2, text_y), text, fill="black", font=font)
            text_y += getattr(font, "size", 12) + 10
        draw.rectangle((x0 + 4, y0 + 4, x0 + cell_w - 4, y0 + cell_h - 4), outline=(200, 200, 200), width=1)
        if progress is not None:
            progress.update(1)
    if page is not None:
        yield page
