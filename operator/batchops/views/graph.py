"""The step graph as a text tree, a Mermaid flowchart or a Graphviz DOT digraph.

Each renderer takes a `RunView`: from a spec alone it draws the dependencies; from a live object
it adds each step's state, and Mermaid and DOT colour the steps by state group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from batchops.views.run import STATE_CLASSES, RunView, StateClass, StepView

STATE_COLOURS: Final[Mapping[StateClass, tuple[str, str]]] = {
    # (fill, stroke): grey not started, amber waiting for capacity, blue running, green, red.
    "waiting": ("#eeeeee", "#9e9e9e"),
    "queued": ("#fff3cd", "#b8860b"),
    "running": ("#cfe2ff", "#1f6feb"),
    "succeeded": ("#d1e7dd", "#2e7d32"),
    "failed": ("#f8d7da", "#c62828"),
    "cancelled": ("#d6d8db", "#616161"),
}


def render_tree(run: RunView) -> str:
    """Roots first, each step under the dependency it waits for last (in dependency order); a
    step with several dependencies appears once, marked `(after a, b)`. Live states form a
    column on the right."""
    position = {step.name: index for index, step in enumerate(run.steps)}
    children: dict[str, list[StepView]] = {step.name: [] for step in run.steps}
    roots: list[StepView] = []
    for step in run.steps:
        known = [dep for dep in step.depends_on if dep in position]
        if known:
            children[max(known, key=position.__getitem__)].append(step)
        else:
            roots.append(step)

    rows: list[tuple[str, StepView]] = []
    # Iterative depth-first walk: a 500-step chain is deeper than comfortable recursion.
    pending: list[tuple[StepView, str, str]] = [
        (root, "", "") for root in reversed(roots)
    ]  # (step, prefix of its own line, prefix of its children's lines)
    while pending:
        step, own_prefix, child_prefix = pending.pop()
        after = f" (after {', '.join(step.depends_on)})" if len(step.depends_on) > 1 else ""
        rows.append((f"{own_prefix}{step.name}{after}", step))
        kids = children[step.name]
        for index in reversed(range(len(kids))):
            last = index == len(kids) - 1
            pending.append(
                (
                    kids[index],
                    child_prefix + ("└── " if last else "├── "),
                    child_prefix + ("    " if last else "│   "),
                )
            )
    if not run.live:
        return "\n".join(label for label, _ in rows)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {step.state_text}".rstrip() for label, step in rows)


def render_mermaid(run: RunView) -> str:
    """A `flowchart TD`; node ids are `s<position>` (step names may be Mermaid keywords such as
    `end`), labels carry the name and the live state, `classDef`s colour the states."""
    ids = {step.name: f"s{index}" for index, step in enumerate(run.steps)}
    lines = ["flowchart TD"]
    for step in run.steps:
        label = step.name + (f"<br/>{step.state_text}" if step.status else "")
        lines.append(f'    {ids[step.name]}["{label}"]')
    for step in run.steps:
        lines += [f"    {ids[dep]} --> {ids[step.name]}" for dep in step.depends_on if dep in ids]
    used = _used_classes(run)
    for state in used:
        fill, stroke = STATE_COLOURS[state]
        lines.append(f"    classDef {state} fill:{fill},stroke:{stroke},color:#000")
    for state in used:
        members = ",".join(ids[step.name] for step in run.steps if step.state_class == state)
        lines.append(f"    class {members} {state}")
    return "\n".join(lines)


def render_dot(run: RunView) -> str:
    """A Graphviz `digraph` (top to bottom), each step a box filled with its state's colour."""
    lines = [
        f"digraph {_quote(run.name)} {{",
        "    rankdir=TB;",
        '    node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
    ]
    for step in run.steps:
        label = f"{step.name}\n{step.state_text}" if step.status else step.name
        attributes = [f"label={_quote(label)}"]
        if step.state_class is not None:
            fill, stroke = STATE_COLOURS[step.state_class]
            attributes += [f'fillcolor="{fill}"', f'color="{stroke}"']
        lines.append(f"    {_quote(step.name)} [{', '.join(attributes)}];")
    names = {step.name for step in run.steps}
    for step in run.steps:
        lines += [
            f"    {_quote(dep)} -> {_quote(step.name)};" for dep in step.depends_on if dep in names
        ]
    lines.append("}")
    return "\n".join(lines)


RENDERERS: Final[Mapping[str, Callable[[RunView], str]]] = {
    "text": render_tree,
    "mermaid": render_mermaid,
    "dot": render_dot,
}
"""`--format` value -> renderer."""


def _used_classes(run: RunView) -> list[StateClass]:
    present = {step.state_class for step in run.steps}
    return [state for state in STATE_CLASSES if state in present]


def _quote(text: str) -> str:
    """A DOT double-quoted string; a newline becomes DOT's centred line break."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
