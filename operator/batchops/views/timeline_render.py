"""Drawing a timeline chart with rich: for the terminal, and as one self-contained SVG or HTML
file (rich records what it drew and exports it, so the three look alike).

The glyphs carry the meaning on their own (waiting `░`, running `█`, failed `✗`, host gone `↯`,
resubmitted `↻`, critical path `*`); colour only adds to them, so the chart reads the same with
NO_COLOR, in a pipe, or in a file. `ascii_only` swaps every glyph for a plain character, for a
terminal whose encoding has no box-drawing characters. The exported files reference nothing
outside themselves: no web fonts (rich's default SVG template loads Fira Code from a CDN, so ours
names local monospace fonts instead), no scripts.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Final

from rich.console import Console, Group
from rich.text import Text

from batchops.views.timeline import Outcome
from batchops.views.timeline_chart import ARROW, CRITICAL_MARK, Cell, Chart, ChartRow

_RUN: Final[Mapping[Outcome, str]] = {
    "succeeded": "█",
    "failed": "█",
    "interrupted": "█",
    "running": "▓",
    "cancelled": "▒",
    "queued": "█",
}
_GLYPHS: Final[Mapping[str, str]] = {
    "queue": "░",
    "failed": "✗",
    "interrupted": "↯",
    "resubmitted": "↻",
}
_ASCII: Final = str.maketrans(
    {
        "█": "#",
        "▓": "=",
        "▒": "-",
        "░": ".",
        "✗": "x",
        "↯": "!",
        "↻": "^",
        "│": "|",
        "…": "~",
        ARROW: ">",
    }
)
_RUN_STYLE: Final[Mapping[Outcome, str]] = {
    "succeeded": "green",
    "failed": "red",
    "interrupted": "magenta",
    "running": "blue",
    "cancelled": "bright_black",
    "queued": "yellow",
}
_MARK_STYLE: Final[Mapping[str, str]] = {
    "queue": "yellow",
    "failed": "bold red",
    "interrupted": "bold magenta",
    "resubmitted": "bold cyan",
}
LEGEND: Final = (
    ("░", "yellow", "queued"),
    ("█", "green", "running"),
    ("✗", "bold red", "failed"),
    ("↯", "bold magenta", "host gone"),
    ("↻", "bold cyan", "resubmitted"),
    (CRITICAL_MARK, "bold", "critical path"),
)
"""Glyph, its style and its meaning; `queued` is waiting for capacity."""

SVG_FORMAT: Final = """\
<svg class="rich-terminal" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">
    <!-- batchops timeline, drawn with Rich -->
    <style>
    .{unique_id}-matrix {{
        font-family: "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace;
        font-size: {char_height}px;
        line-height: {line_height}px;
        font-variant-east-asian: full-width;
    }}
    .{unique_id}-title {{
        font-size: 18px;
        font-weight: bold;
        font-family: sans-serif;
    }}
    {styles}
    </style>
    <defs>
    <clipPath id="{unique_id}-clip-terminal">
      <rect x="0" y="0" width="{terminal_width}" height="{terminal_height}" />
    </clipPath>
    {lines}
    </defs>
    {chrome}
    <g transform="translate({terminal_x}, {terminal_y})" \
clip-path="url(#{unique_id}-clip-terminal)">
    {backgrounds}
    <g class="{unique_id}-matrix">
    {matrix}
    </g>
    </g>
</svg>
"""

HTML_FORMAT: Final = """\
<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>{title}</title>
<style>
{{stylesheet}}
body {{{{
    color: {{foreground}};
    background-color: {{background}};
}}}}
</style>
</head>
<body>
<pre style="font-family:'DejaVu Sans Mono',Menlo,Consolas,'Courier New',monospace;\
line-height:1.15"><code style="font-family:inherit">{{code}}</code></pre>
</body>
</html>
"""


def chart_renderable(chart: Chart, *, ascii_only: bool = False) -> Group:
    """The chart as rich lines: title, axis, a row per step, summary and legend."""
    pad = " " * (chart.label_width + 2)
    lines: list[Text] = [
        Text(chart.title, style="bold"),
        *([Text(chart.message)] if chart.message else []),
        Text(f"{pad}{chart.axis}", style="dim"),
    ]
    lines += [_row(chart, row) for row in chart.rows]
    lines += [Text(line) for line in chart.summary]
    lines += _legend(chart.width)
    if ascii_only:
        lines = [_plain(line) for line in lines]
    for line in lines:
        line.no_wrap = True
        line.overflow = "crop"
    return Group(*lines)


def svg_document(chart: Chart, title: str) -> str:
    """One self-contained SVG file of the chart, in colour."""
    console = _recorder(chart.width)
    console.print(chart_renderable(chart))
    return console.export_svg(title=title, code_format=SVG_FORMAT)


def html_document(chart: Chart, title: str) -> str:
    """One self-contained HTML file of the chart, in colour, styles inline."""
    console = _recorder(chart.width)
    console.print(chart_renderable(chart))
    page = HTML_FORMAT.format(title=_html_escape(title))
    return console.export_html(code_format=page, inline_styles=True)


def plain_text(chart: Chart, *, ascii_only: bool = False) -> str:
    """The chart as the terminal shows it without colour (NO_COLOR, a pipe, a file)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=chart.width,
        color_system=None,
        force_terminal=False,
        no_color=True,
        highlight=False,
        _environ={},
    )
    console.print(chart_renderable(chart, ascii_only=ascii_only))
    return buffer.getvalue()


def _recorder(width: int) -> Console:
    # The environment is not read (NO_COLOR, COLUMNS): a file is the same wherever it is made.
    return Console(
        record=True,
        file=io.StringIO(),
        width=width,
        color_system="truecolor",
        force_terminal=True,
        no_color=False,
        highlight=False,
        legacy_windows=False,
        _environ={},
    )


def _row(chart: Chart, row: ChartRow) -> Text:
    text = Text()
    label = row.label.ljust(chart.label_width)
    text.append(label, style="bold" if row.critical else "")
    text.append(" │", style="dim")
    for cell in row.cells:
        if cell is None:
            text.append(" ")
            continue
        glyph, style = _glyph(cell)
        # The critical path stands out by the others stepping back (glyphs stay as they are).
        dim = chart.has_critical_path and not row.critical and cell.kind in ("queue", "run")
        text.append(glyph, style=f"{style} dim" if dim else style)
    text.append("│ ", style="dim")
    style = _RUN_STYLE[row.outcome] if row.outcome is not None else ""
    text.append(row.note.ljust(chart.note_width), style=style)
    text.rstrip()
    return text


def _glyph(cell: Cell) -> tuple[str, str]:
    if cell.kind == "run":
        return _RUN[cell.outcome], _RUN_STYLE[cell.outcome]
    return _GLYPHS[cell.kind], _MARK_STYLE[cell.kind]


def _legend(width: int) -> list[Text]:
    """The glyphs' meanings, on as many lines of `width` as they need."""
    lines = [Text()]
    for glyph, style, meaning in LEGEND:
        entry = f"{glyph} {meaning}"
        if lines[-1].plain and len(lines[-1].plain) + 2 + len(entry) > width:
            lines.append(Text())
        if lines[-1].plain:
            lines[-1].append("  ")
        lines[-1].append(glyph, style=style)
        lines[-1].append(f" {meaning}", style="dim")
    return lines


def _plain(line: Text) -> Text:
    """The same line with ASCII glyphs, each one cell wide like the glyph it replaces (so the
    styles stay on their characters)."""
    copy = line.copy()
    copy.plain = line.plain.translate(_ASCII)
    return copy


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
