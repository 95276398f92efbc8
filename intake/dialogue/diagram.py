"""Draw each flow of the step table as a Mermaid state diagram, and keep docs/dialogue.md in step with the code.

python -m intake.dialogue.diagram docs/dialogue.md      rewrites the drawings between the flow markers
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from intake.dialogue.engine import FLOWS
from intake.dialogue.steps import END, Flow

BLOCK = re.compile(r"(<!-- flow:(\w+) -->\n)(.*?)(<!-- /flow -->)", re.DOTALL)


def _node(name: str, flow: Flow) -> str:
    if name == END:
        return "[*]"
    owner, _, step = name.partition(".")
    return step if owner == flow.name else f"{owner}_{step}"


def mermaid(flow: Flow) -> str:
    """Return the Mermaid state diagram of `flow`: its entries, steps (with their docstrings) and transitions."""
    lines = ["stateDiagram-v2"]
    lines += [f"    [*] --> {_node(step, flow)} : {why}" for step, why in flow.entries.items()]
    for step in flow.steps:
        lines.append(f"    {_node(step.name, flow)} : {_node(step.name, flow)} - {step.doc}")
        lines += [
            f"    {_node(step.name, flow)} --> {_node(target, flow)} : {why}"
            for target, why in step.next.items()
        ]
    return "\n".join(lines) + "\n"


def render(document: str) -> str:
    """Return `document` with every flow block replaced by the current drawing of that flow."""

    by_name = {flow.name: flow for flow in FLOWS}

    def block(m: re.Match[str]) -> str:
        return f"{m.group(1)}```mermaid\n{mermaid(by_name[m.group(2)])}```\n{m.group(4)}"

    return BLOCK.sub(block, document)


def main(argv: list[str]) -> int:
    """Rewrite the drawings in the given Markdown files."""
    for name in argv:
        path = Path(name)
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
