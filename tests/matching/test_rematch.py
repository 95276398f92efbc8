"""The full re-match in one direction (`MatchIndex.rematch`: every child against every unit, identity once) finds
exactly what searching every profile one by one finds: the same comparisons (values, bands, evidence) and flags."""

from __future__ import annotations

from typing import Any

from matching.frequencies import FrequencyTable
from matching.search import Comparison, FlagKind, MatchIndex, SearchResult, SearchSettings, Side
from tests.matching.planted import planted_population

TABLE = FrequencyTable.default()


def _comparison(c: Comparison) -> tuple[Any, ...]:
    # `compared` and `expected_unrelated` are the searching side's: a child's search counts every family unit.
    return (c.relationship, c.child_profile_id, c.family_profile_ids, c.log10_lr, c.band, c.inconsistent_markers,
            c.shared_markers, c.skipped_markers, c.evidence, c.ask_for)  # fmt: skip


def _flag_key(kind: FlagKind, ids: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    identity = kind in (FlagKind.SAME_PERSON, FlagKind.SAMPLE_MIXUP)
    return str(kind), tuple(sorted(ids)) if identity else ids


def _found(results: list[SearchResult]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    comparisons: dict[Any, Any] = {}
    flags: dict[Any, Any] = {}
    for result in results:
        for c in result.comparisons:
            comparisons[(c.relationship, c.child_profile_id, c.family_profile_ids)] = _comparison(c)
        for f in result.flags:
            detail = dict(f.detail)
            for key in ("sides", "roles", "case_ids"):  # an identity flag names the pair in either order
                if key in detail and f.kind in (FlagKind.SAME_PERSON, FlagKind.SAMPLE_MIXUP):
                    detail[key] = sorted(map(str, detail[key]))  # type: ignore[arg-type]
            flags[_flag_key(f.kind, f.profile_ids)] = detail
    return comparisons, flags


def test_the_rematch_finds_what_every_profiles_search_finds() -> None:
    entries = planted_population(TABLE)
    index = MatchIndex(
        TABLE, SearchSettings(inconclusive_lr=50.0)
    )  # half siblings and aunts report from LR 50
    assert not index.add_many(entries)
    one_by_one = [index.search(e.profile_id) for e in entries]
    rematch = list(index.rematch())
    old, new = _found(one_by_one), _found(rematch)
    assert new[0] == old[0]
    assert new[1] == old[1]
    relationships = {k[0] for k in new[0]}
    assert relationships >= {
        "trio_couple",
        "duo",
        "full_siblings",
        "half_siblings",
        "grandparent",
        "avuncular",
    }
    kinds = {k[0] for k in new[1]}
    assert kinds >= {"same_person", "sample_mixup"}
    # Every child searched once, with every family unit compared; each identical pair flagged once.
    children = [e.profile_id for e in entries if e.side is Side.CHILD]
    assert [r.profile_id for r in rematch[: len(children)]] == children
    identity = [
        f for r in rematch for f in r.flags if f.kind in (FlagKind.SAME_PERSON, FlagKind.SAMPLE_MIXUP)
    ]
    assert len(identity) == len({tuple(sorted(f.profile_ids)) for f in identity})
    kid = next(r for r in rematch if r.comparisons and r.comparisons[0].relationship == "trio_couple")
    assert kid.compared == index.search(kid.profile_id).compared


def test_identity_once_equals_the_per_profile_identity_scan_across_kits() -> None:
    entries = planted_population(TABLE, seed=3, unrelated=10)
    index = MatchIndex(TABLE, SearchSettings(min_shared_markers=10))
    index.add_many(entries)
    per_profile = {
        tuple(sorted(f.profile_ids))
        for e in entries
        for f in index.search(e.profile_id).flags
        if f.kind in (FlagKind.SAME_PERSON, FlagKind.SAMPLE_MIXUP)
    }
    once = {(index.pid_of(a), index.pid_of(b)) for a, b, _ in index.identical_pairs()}
    assert {tuple(sorted(p)) for p in once} == per_profile and per_profile


def _die(_slots: list[int]) -> None:
    import os

    os._exit(3)  # a forked child killed mid-batch


def test_a_forked_child_that_dies_fails_the_rematch_instead_of_waiting_for_ever(monkeypatch) -> None:
    """`reunite match --all` searches batches in forked children; one killed (out of memory, kill -9) must end the
    run with an error. multiprocessing.Pool replaced the dead child and waited for its batch for ever."""
    import threading
    from concurrent.futures.process import BrokenProcessPool

    from matching.service import rematch

    index = MatchIndex(TABLE, SearchSettings())
    assert not index.add_many(planted_population(TABLE))
    assert len(index.child_slots()) >= 2
    monkeypatch.setattr(rematch, "BATCH", 1)
    monkeypatch.setattr(rematch, "_search_batch", _die)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            list(rematch.rematch_batches(index, 2))
        except BaseException as exc:  # noqa: BLE001 - what ended the run is the assertion
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the re-match waited for the dead child's batch"
    assert len(raised) == 1 and isinstance(raised[0], BrokenProcessPool)
