"""One pair, exactly: a scan's hit recomputed over its shared markers (`matching.parentage.exact_lr`: a trio or duo
in closed form, anything else by `matching.kinship`), with per-marker evidence, and banded (see docs/matching.md,
"Markers, kits and bands")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from matching.bands import Band, band_of
from matching.family_scan import RELATIVE_RELATIONSHIP
from matching.kinship import KinshipCase
from matching.parentage import exact_lr
from matching.profiles import Profile
from matching.relationships import RELATIONSHIPS
from matching.search.results import Comparison, Flag, FlagKind, MarkerEvidence, json_float
from matching.search.settings import SearchSettings
from matching.search.store import IndexStore


@dataclass(frozen=True)
class Hit:
    """A pair a scan found (or a claimed-parent check asks for): the relationship and the person slots."""

    relationship: str
    child: int  # person slot
    family: tuple[tuple[str, int], ...]  # (role in the relationship, person slot)


def compare(store: IndexStore, hit: Hit, compared: int, candidate_lr: float) -> Comparison:
    """Recompute one comparison exactly (`exact_lr`: the values of `matching.kinship`) with per-marker evidence, and band it."""
    s = store.settings
    rel = RELATIONSHIPS[hit.relationship]
    child_role = next(r for r in rel.roles if r not in dict(hit.family))
    persons = {child_role: store.profile_of(hit.child), **{r: store.profile_of(o) for r, o in hit.family}}
    shown = {child_role: "child"} | {
        r: (store.role_of(o) if r == "parent" else "relative" if r == "person1" else r) for r, o in hit.family
    }
    in_table = store.table.loci
    child = persons[child_role]
    shared = [
        m
        for m in store.table.markers
        if rel.typed_enough([r for r, p in persons.items() if p.genotype(m) is not None])
    ]
    skipped = sorted(
        m
        for m in child.genotypes
        if m not in in_table and any(persons[r].genotype(m) is not None for r, _ in hit.family)
    )
    log10_lr = 0.0
    inconsistent: tuple[str, ...] = ()
    evidence: tuple[MarkerEvidence, ...] = ()
    usable = {r: Profile({m: g for m, g in p.genotypes.items() if m in shared}) for r, p in persons.items()}
    if shared and all(p.genotypes for p in usable.values()):
        result = exact_lr(KinshipCase(hit.relationship, usable, s.mutation, s.theta), store.table)
        log10_lr, inconsistent = result.log10_lr, result.inconsistent_markers
        evidence = tuple(
            MarkerEvidence(
                m,
                {shown[r]: p.genotype(m) for r, p in persons.items()},
                math.log10(lr) if (lr := result.per_marker[m]) > 0 else -math.inf,
                m in inconsistent,
            )
            for m in shared
        )
    banded = band_of(
        log10_lr,
        len(inconsistent),
        len(shared),
        candidate_lr=candidate_lr,  # the search's threshold, scaled by the database size if asked
        exclude_lr=s.exclude_lr,
        exclude_inconsistent=s.exclude_inconsistent,
        min_shared_markers=s.min_shared_markers,
    )
    family_ids = tuple(sorted(store.pid_of(o) for _, o in hit.family))
    return Comparison(
        relationship=hit.relationship,
        child_profile_id=store.pid_of(hit.child),
        family_profile_ids=family_ids,
        child_case_id=store.case_of(hit.child),
        family_case_id=store.case_of(hit.family[0][1]),
        log10_lr=log10_lr,
        band=banded,
        inconsistent_markers=tuple(inconsistent),
        shared_markers=tuple(shared),
        skipped_markers=tuple(skipped),
        evidence=evidence,
        compared=compared,
        expected_unrelated=compared * 10.0 ** -max(log10_lr, 0.0),  # a probability is at most 1
        ask_for=_ask_for(hit.relationship, banded, len(shared), len(store.table.markers)),
    )


def _ask_for(relationship: str, band: Band, shared: int, markers: int) -> str | None:
    """What would help an inconclusive or too-small comparison: the other parent, more markers, a parent."""
    if band not in (Band.INCONCLUSIVE, Band.NOT_ENOUGH_MARKERS):
        return None
    asks = ["the other parent"] if relationship == "duo" else []
    if shared < markers:
        asks.append(f"more markers ({shared} shared)")
    if relationship in RELATIVE_RELATIONSHIP.values():
        asks.append("a parent of the missing child")
    return " or ".join(asks) or None


def not_enough_flag(s: SearchSettings, comparison: Comparison) -> Flag:
    """The flag of a pair that would have been reported had enough markers been typed on both sides."""
    return Flag(
        FlagKind.NOT_ENOUGH_MARKERS,
        (comparison.child_profile_id, *comparison.family_profile_ids),
        {
            "relationship": comparison.relationship,
            "log10_lr": json_float(comparison.log10_lr),
            "shared_markers": len(comparison.shared_markers),
            "min_shared_markers": s.min_shared_markers,
            "ask_for": comparison.ask_for,
        },
    )
