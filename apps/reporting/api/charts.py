"""Server-rendered SVG charts for the staff dashboard (no JavaScript, no CDN)."""

from collections.abc import Callable, Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 14, 46


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str, format_value: Callable[[float], str] = str
) -> SafeString:
    """A bar per label, a y axis with three gridlines, every n-th label on the x axis."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = max([*values, 0]) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
    ]
    for step in range(4):
        value = top_value * step / 3
        y = TOP + plot_height - plot_height * step / 3
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(format_value(value))}</text>"
        )
    count = max(len(values), 1)
    slot = plot_width / count
    label_every = max(1, count // 12)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_height = plot_height * value / top_value
        x = LEFT + index * slot
        parts.append(
            f'<rect x="{x + slot * 0.1:.1f}" y="{TOP + plot_height - bar_height:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{bar_height:.1f}" fill="#3b7dd8"><title>{escape(label)}: {escape(format_value(value))}'
            "</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_height}" y2="{TOP + plot_height}" stroke="#333"/>'
    )
    if not values:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No data in this period</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text is escaped above
