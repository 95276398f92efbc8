"""The bulk build (`matching.service.bulk`, COPY on PostgreSQL) gives exactly the index of the one-by-one path
(`entries()` and `add_many`): the same slots, codes, units, owners and flags, on both databases, with encrypted
profiles; withdrawn, erased, refused, replaced and sex-conflicting profiles left out as before."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime

import numpy as np
import pytest
import sqlalchemy as sa

from intake.cases.erasure import erase_contact
from intake.models import Channel, Consent, ConsentScope, Contact, DnaProfile, MatchFlag, Role, SampleSource
from matching.joint_index import PedigreeIndex
from matching.search import Flag, SearchSettings
from matching.service import build_index, entries
from matching.service import bulk as bulk_module
from matching.service import worker as worker_module
from matching.service.bulk import _copied, _Reader, blocks, release_free_memory
from tests.matching_service.world import TABLE, World


def _populate(world: World) -> dict[str, str]:
    """Every kind of row the build must take or leave; return profile ids by what they are."""
    ids: dict[str, str] = {}
    trio = world.family(Role.MOTHER, Role.FATHER)
    mother, father = world.person("female"), world.person("male")
    ids["mother"] = world.upload(trio.codes["mother"], mother)
    ids["father"] = world.upload(trio.codes["father"], father)
    child = world.found_child()
    ids["child"] = world.upload(child["child"], world.child(father, mother))
    kidnapped = world.found_child(SampleSource.SUSPECTED_KIDNAPPED_CHILD, (Role.CLAIMED_MOTHER,))
    ids["claimed"] = world.upload(kidnapped["claimed_mother"], world.person("female"))
    ids["kidnapped"] = world.upload(kidnapped["child"], world.person("male"))
    placed = world.family(Role.MOTHER, Role.PATERNAL_GRANDFATHER)  # a joint pedigree
    ids["odd"] = world.upload(placed.codes["mother"], world.person("female"))
    ids["grandfather"] = world.upload(placed.codes["paternal_grandfather"], world.person("male"))
    male_mother = world.family(Role.MOTHER)
    ids["sex conflict"] = world.upload(
        male_mother.codes["mother"], world.person("female"), amelogenin=("X", "Y")
    )
    accepted = world.family(Role.MOTHER)
    ids["accepted"] = world.upload(accepted.codes["mother"], world.person("female"), amelogenin=("X", "Y"))
    replaced = world.family(Role.FATHER)
    ids["replaced"] = world.upload(replaced.codes["father"], world.person("male"))
    ids["replacement"] = world.upload(
        replaced.codes["father"], world.person("male"), replace=True, reason="retyped"
    )
    refused = world.family(Role.MOTHER)
    ids["refused"] = world.upload(refused.codes["mother"], world.person("female"))
    erased = world.family(Role.MOTHER)
    ids["erased"] = world.upload(erased.codes["mother"], world.person("female"))
    emptied = world.family(Role.MOTHER)
    ids["emptied"] = world.upload(emptied.codes["mother"], world.person("female"))
    ids["legacy"] = ids["father"]
    with world.factory() as session:
        session.add(Consent(case_id=refused.case_id, scope=ConsentScope.DATA_PROCESSING, granted=False,
                            channel=Channel.SMS, language="zh_CN", text_version="2026-11"))  # fmt: skip
        session.add(MatchFlag(kind="sex_mismatch", profile_ids=ids["accepted"], case_ids=[accepted.case_id],
                              resolved_at=datetime.now(UTC), resolved_by="operator:test", resolution="checked"))  # fmt: skip
        # A marker and an allele the table lacks (kept whole), and a value written before encryption.
        profile = session.get_one(DnaProfile, ids["odd"])
        profile.genotypes = {**profile.genotypes, "SE33": ["13", "14"], "TH01": ["6", "55"]}
        session.get_one(DnaProfile, ids["emptied"]).genotypes = {}  # as erasure leaves them
        plain = json.dumps(session.get_one(DnaProfile, ids["legacy"]).genotypes, indent=1).encode()
        session.execute(
            sa.update(DnaProfile)
            .where(DnaProfile.id == ids["legacy"])
            .values(genotypes=sa.type_coerce(sa.literal(plain, sa.LargeBinary), sa.LargeBinary))
        )
        session.commit()
    with world.factory() as session:
        contact = session.get_one(Contact, erased.contact_id)
        erase_contact(session, contact, actor=f"contact:{contact.id}", now=datetime.now(UTC))
        session.commit()
    return ids


def _state(index: PedigreeIndex) -> dict[str, object]:
    """Everything the index holds, slot by slot."""
    size = index.persons.size
    valid = np.flatnonzero(index.persons.valid[:size]).tolist()
    state: dict[str, object] = {
        "slots": [
            (
                s,
                index.pid_of(s),
                index.person_of(s),
                index.case_of(s),
                index.side_of(s),
                index.role_of(s),
                int(index._home[s]),
                index.column(s).tolist(),
            )
            for s in valid
        ],  # fmt: skip
        "odd": {s: p for s, p in index._odd.items()},
        "loose": (
            index.loose.codes().full().tolist(),
            index.loose.owner.tolist(),
            index.loose.valid.tolist(),
        ),
        "pedigrees": {c: index._family(c) for c in index._families},  # members, roles and row
    }
    for kind, pool in index.pools.items():
        state[kind] = (
            [pool.codes(k).full().tolist() for k in range(pool.width)],
            pool.owner.tolist(),
            pool.valid.tolist(),
        )
    return state


def _pedigrees(index: PedigreeIndex) -> dict[int, object]:
    families = {c: index._family(c) for c in index._families}
    return {
        c: (f.members, f.row >= 0, index._slots[f.row].tolist() if f.row >= 0 else None)
        for c, f in families.items()
        if f is not None
    }


def _flags(flags: list[Flag]) -> list[tuple[object, ...]]:
    return [(f.kind, f.profile_ids, f.detail) for f in flags]


@pytest.mark.parametrize("chunk", [100_000, 2])
def test_the_bulk_build_is_the_one_by_one_build_row_for_row(world, backend, chunk):
    ids = _populate(world)
    with world.factory() as session:
        generic = PedigreeIndex(TABLE, SearchSettings())
        generic_flags = generic.add_many(entries(session), chunk=chunk)
    reads = [False, True] if backend == "postgresql" else [False]
    for copy in reads:
        with world.factory() as session:
            bulk = PedigreeIndex(TABLE, SearchSettings())
            flags: list[Flag] = []
            bulk.add_blocks(blocks(session, bulk.encoder, chunk=chunk, flags=flags, copy=copy))
        assert _state(bulk) == _state(generic), f"copy={copy}"
        assert _flags(flags) == _flags(generic_flags)
    one_by_one = PedigreeIndex(TABLE, SearchSettings())
    with world.factory() as session:
        for entry in entries(session):
            one_by_one.add(entry)
    assert _pedigrees(one_by_one) == _pedigrees(generic)  # a block's pedigrees made at once, as one by one
    indexed = set(generic.profile_ids())
    assert {ids[k] for k in ("mother", "father", "child", "claimed", "kidnapped", "odd", "grandfather",
                             "accepted", "replacement")} == indexed  # fmt: skip
    assert generic.pedigree_of(generic.case_of(generic.slot(ids["grandfather"]))) is not None
    assert [f.profile_ids for f in generic_flags] == [(ids["sex conflict"],)]
    odd = generic.profile(ids["odd"])
    assert odd.genotypes["SE33"] == ("13", "14") and odd.genotypes["TH01"] == ("6", "55")


def test_the_worker_builds_in_bulk_and_counts_as_before(world):
    _populate(world)
    with world.factory() as session:
        old, old_summary = build_index(session, TABLE, SearchSettings(), bulk=False)
    with world.factory() as session:
        new, summary = build_index(session, TABLE, SearchSettings())
    assert _state(new) == _state(old)
    assert summary.indexed == old_summary.indexed and summary.held_out == old_summary.held_out == 1


def test_the_copy_read_holds_none_of_its_temporaries_while_the_index_takes_its_rows(world, backend):
    if backend != "postgresql":
        pytest.skip("the COPY read is PostgreSQL's")
    ids = _populate(world)
    with world.factory() as session:
        reader = _Reader(session, PedigreeIndex(TABLE, SearchSettings()).encoder, [])
        read = _copied(reader)
        block = next(read)
        assert read.gi_frame is not None and set(read.gi_frame.f_locals) == {"reader"}
        assert len(block) and {bytes(p).decode() for p in block.profile_ids} <= set(ids.values())
        assert next(read, None) is None


def test_the_build_hands_freed_memory_back(world, monkeypatch):
    _populate(world)
    calls: list[int] = []
    monkeypatch.setattr(worker_module, "release_free_memory", lambda: calls.append(1) or True)
    for n, bulk in enumerate((True, False), start=1):  # both paths
        with world.factory() as session:
            index, _ = build_index(session, TABLE, SearchSettings(), bulk=bulk)
        assert len(index) and len(calls) == n


def test_free_memory_is_released_where_the_c_library_can(monkeypatch):
    assert release_free_memory() is (platform.libc_ver()[0] == "glibc")

    class NoTrim:
        def __init__(self, name: str) -> None:
            pass

    monkeypatch.setattr(bulk_module.ctypes, "CDLL", NoTrim)  # a C library without malloc_trim (musl, macOS)
    assert release_free_memory() is False
