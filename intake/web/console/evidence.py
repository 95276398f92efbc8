"""The candidate page's evidence per marker: one column per typed person of the pedigree the candidate names.

A joint-pedigree candidate (`match_candidates.pedigree`) carries every typed relative's genotype at each marker,
labelled by role ("paternal_grandmother", "full_sibling 2" for a second sibling). The columns come child first,
then in the pedigree's order of roles (`matching.family_pedigree.ROLE_ORDER`), headed in the reader's words. The
page shows those profiles, so each is audited as a profile read (`profile.view`, with the candidate).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from intake.models import Candidate, audit
from intake.web.console.app import label
from matching.family_pedigree import ROLE_ORDER


def _order(key: str) -> tuple[int, str, int]:
    role, _, number = key.partition(" ")
    rank = 0 if role == "child" else 1 + ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER) + 1
    return rank, role, int(number) if number.isdigit() else 1


def evidence_columns(evidence: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Return (key in the evidence, column header) of every person with a genotype column, child first."""
    keys = {who for row in evidence for who in (row.get("genotypes") or {})}
    columns = []
    for key in sorted(keys, key=_order):
        role, _, number = key.partition(" ")
        columns.append((key, f"{label(role)} {number}".strip()))
    return columns


def audit_profiles_shown(session: Session, actor: str, candidate: Candidate) -> None:
    """Record a profile read for the child's and every family member's profile the evidence shows."""
    family = [p for p in candidate.family_profile_ids.split(",") if p]
    for pid in (candidate.child_profile_id, *family):
        audit(session, actor, "profile.view", "profile", pid, candidate=candidate.id)
