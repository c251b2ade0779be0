"""Field paths: `spec.steps[1].dependsOn` as text, and as the key tuple it stands for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeAlias

FieldPath: TypeAlias = tuple[str | int, ...]

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def format_path(path: Iterable[str | int]) -> str:
    """`("spec", "steps", 1, "name")` -> `spec.steps[1].name`."""
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else key
    return text


def parse_path(text: str) -> FieldPath:
    """The inverse of `format_path`, for the field paths the model's errors carry."""
    return tuple(int(index) if index else name for name, index in _TOKEN.findall(text))
