"""The timeline drawn: snapshots of the terminal chart without colour and of the SVG, the
files' self-containment, and `batchops timeline` on a saved object.

Snapshots live in tests/unit/testdata/timeline/. After an intended change, rewrite them with
`BATCHOPS_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/test_timeline_render.py` and read the
diff. The SVG is checked by an XML parser (CI has no browser; it was also drawn once by headless
Chromium when the format was chosen, and its coloured bars were there).
"""

from __future__ import annotations

import html.parser
import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchops.cli import main
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.views.timeline import build_timeline
from batchops.views.timeline_chart import Chart, lay_out
from batchops.views.timeline_render import html_document, plain_text, svg_document
from tests.timeline_runs import (
    NOW,
    failed_run_with_retry,
    interrupted_run,
    walkthrough_run,
    wide_run,
)

SNAPSHOTS = Path(__file__).parent / "testdata" / "timeline"
UPDATE = os.environ.get("BATCHOPS_UPDATE_SNAPSHOTS") == "1"
RUNS: dict[str, Callable[[], dict[str, Any]]] = {
    "walkthrough": walkthrough_run,
    "failed-retry": failed_run_with_retry,
    "interrupted": interrupted_run,
    "wide-200": wide_run,
}
SVG_NS = "{http://www.w3.org/2000/svg}"


def chart_of(run: dict[str, Any], width: int) -> Chart:
    timeline = build_timeline(
        run["metadata"]["name"], parse_pipeline_spec(run["spec"]), run["status"], NOW
    )
    return lay_out(timeline, width)


def matches_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; see the module docstring to update it"


def svg_text_lines(svg: str) -> list[str]:
    """The text an SVG shows, line by line: rich gives each line its own clip path and places
    each run of text at its column (x = column * character width; blanks are not drawn)."""
    root = ElementTree.fromstring(svg)
    lines: dict[int, dict[int, str]] = {}
    for element in root.iter(f"{SVG_NS}text"):
        line = re.search(r"-line-(\d+)\)", element.get("clip-path", ""))
        text = (element.text or "").replace("\xa0", " ")
        if line is None or not text:
            continue
        char_width = float(element.get("textLength", "0")) / len(text)
        column = round(float(element.get("x", "0")) / char_width)
        lines.setdefault(int(line.group(1)), {})[column] = text
    shown = []
    for number in sorted(lines):
        buffer = ""
        for column, text in sorted(lines[number].items()):
            buffer = buffer.ljust(column) + text
        shown.append(buffer.rstrip())
    return shown


@pytest.mark.parametrize("name", RUNS)
def test_terminal_chart_without_colour_matches_its_snapshot(name: str) -> None:
    text = plain_text(chart_of(RUNS[name](), 80))
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    matches_snapshot(f"{name}.txt", text)


@pytest.mark.parametrize("name", ["walkthrough", "failed-retry"])
def test_svg_matches_its_snapshot(name: str) -> None:
    svg = svg_document(chart_of(RUNS[name](), 120), f"batchops timeline {name}")
    matches_snapshot(f"{name}.svg", svg)


@pytest.mark.parametrize("name", RUNS)
def test_svg_is_one_self_contained_svg_document_showing_the_chart(name: str) -> None:
    chart = chart_of(RUNS[name](), 120)
    svg = svg_document(chart, "batchops timeline")
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg" and root.get("viewBox")
    # Nothing to fetch when it is opened: no web fonts, images, scripts or style imports.
    assert re.findall(r"https?://[^\"' )]+", svg) == ["http://www.w3.org/2000/svg"]
    assert not any(token in svg for token in ("<script", "@import", "@font-face", "href="))
    # It shows what the terminal shows, line for line.
    assert svg_text_lines(svg) == [line.rstrip() for line in plain_text(chart).splitlines()]


def test_html_is_one_self_contained_page_showing_the_chart() -> None:
    chart = chart_of(interrupted_run(), 120)
    page = html_document(chart, "batchops timeline <sharded>")
    found: list[str] = []

    class Collect(html.parser.HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append(tag)
            assert not any(name in ("src", "href") for name, _ in attrs)

    Collect().feed(page)
    assert found[:2] == ["html", "head"] and "script" not in found and "link" not in found
    assert "<title>batchops timeline &lt;sharded&gt;</title>" in page
    assert "https://" not in page and "http://" not in page
    assert "shard" in page and "↻" in page


def test_ascii_only_chart_has_no_other_characters() -> None:
    text = plain_text(chart_of(interrupted_run(), 80), ascii_only=True)
    assert text.isascii()
    assert "!" in text and "^" in text and "#" in text


# --- the command on a saved object -----------------------------------------------------------


@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    path = tmp_path / "nightly-etl.yaml"
    path.write_text(yaml.safe_dump(walkthrough_run()), encoding="utf-8")
    return path


def test_timeline_of_a_saved_object_prints_a_row_per_step_without_colour_in_a_pipe(
    saved_run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a pipe gets 80 columns whatever this says
    assert main(["timeline", str(saved_run)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert out == plain_text(chart_of(walkthrough_run(), 80))


def test_timeline_honours_no_color_on_a_terminal(
    saved_run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: treat the captured stdout as a terminal
    assert main(["timeline", str(saved_run), "--width", "80"]) == 0
    coloured = capsys.readouterr().out
    assert "\x1b[32m" in coloured  # green runs
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["timeline", str(saved_run), "--width", "80"]) == 0
    plain = capsys.readouterr().out
    assert not re.search(r"\x1b\[(3|9)\dm", plain)  # no foreground colour at all
    assert "█" in plain and "*job1" in plain


def test_timeline_writes_an_svg_or_html_file(
    saved_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.svg"
    assert main(["timeline", str(saved_run), "-o", "svg", "--file", str(target)]) == 0
    assert capsys.readouterr().out == f"wrote {target}\n"
    assert ElementTree.parse(target).getroot().tag == f"{SVG_NS}svg"
    assert main(["timeline", str(saved_run), "-o", "html", "--file", "-"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")


def test_timeline_of_a_file_without_a_pipeline_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "cm.yaml"
    empty.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert main(["timeline", str(empty)]) == 1
    assert "no BatchPipeline or CronPipeline" in capsys.readouterr().err
