"""The sample conversations of docs/dialogue.md, read as golden transcripts: every reply line must match exactly.

A conversation is a fenced block of lines: "> message" from the person, "< reply" from reunite, and lines
indented by two spaces continuing the reply above (its choices). Only what is random each time is normalised:
case references, PINs and sample codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "dialogue.md"
SECTION = "## Sample conversations"
_FENCE = re.compile(r"^```\n(.*?)^```", re.DOTALL | re.MULTILINE)
_RANDOM = (
    (re.compile(r"MC-\d{4}-[2-9A-Z]{6}"), "MC-YYYY-REFERENCE"),
    (re.compile(r"(?<![\d-])\d{6}(?!\d)"), "PIN"),
    (re.compile(r"(?<![A-Z0-9])[2-9A-HJ-NP-TV-Z]{4}-[2-9A-HJ-NP-TV-Z]{4}(?![A-Z0-9])"), "SAMPLE-CODE"),
)


@dataclass(frozen=True)
class Exchange:
    """One message and the exact replies it gets."""

    message: str
    replies: tuple[str, ...]


def normalise(text: str) -> str:
    """Return `text` with the random codes replaced by placeholders."""
    for pattern, placeholder in _RANDOM:
        text = pattern.sub(placeholder, text)
    return text


def parse(block: str) -> list[Exchange]:
    """Return the exchanges of one conversation block."""
    exchanges: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("> "):
            exchanges.append((line[2:], []))
        elif line.startswith("< "):
            exchanges[-1][1].append(line[2:])
        elif line.startswith("  "):
            replies = exchanges[-1][1]
            replies[-1] += "\n" + line[2:]
        elif line.strip():
            raise ValueError(f"not a transcript line: {line!r}")
    return [Exchange(message, tuple(replies)) for message, replies in exchanges]


def conversations() -> list[list[Exchange]]:
    """Return every sample conversation of docs/dialogue.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    return [parse(block) for block in _FENCE.findall(section)]
