"""The flow drawings in docs/dialogue.md are generated from the step tables and must not drift from them."""

from __future__ import annotations

from pathlib import Path

from intake.dialogue.diagram import mermaid, render
from intake.dialogue.engine import FLOWS, STEPS
from intake.dialogue.steps import END

DOC = Path(__file__).parents[2] / "docs" / "dialogue.md"


def test_docs_drawings_match_the_code():
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "run: python -m intake.dialogue.diagram docs/dialogue.md"
    for flow in FLOWS:
        assert f"<!-- flow:{flow.name} -->" in text
        assert mermaid(flow) in text


def test_every_transition_leads_to_a_known_step_and_every_step_is_documented():
    for step in STEPS.values():
        assert step.doc, f"{step.name} has no docstring on its answer handler"
        for target in step.next:
            assert target == END or target in STEPS, f"{step.name} -> {target}"
