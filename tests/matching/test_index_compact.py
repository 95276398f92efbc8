"""The compact index's bookkeeping against naive references: the key maps (sorted arrays and recent dicts)
against a dict, and random adds, replacements and removals (one by one and in blocks) against an index rebuilt
from scratch with plain Python from the surviving entries."""

from __future__ import annotations

import hashlib
import uuid

import numpy as np
import pytest

from matching.frequencies import FrequencyTable
from matching.index import KeyMap, Pool, pack_hex, unpack_hex
from matching.search import Entry, MatchIndex, Side
from matching.simulate import child_of, random_profile

TABLE = FrequencyTable.default()
TABLE_UNTYPED = MatchIndex(TABLE).encoder.untyped


def _hex(i: int) -> str:
    """A lab-shaped profile id (32 lowercase hex characters); some end in zero bytes, one is all zeros."""
    if i % 4 == 0:
        return f"{i:04x}".ljust(32, "0")  # trailing NUL bytes once packed (numpy drops them from an item)
    return hashlib.blake2b(str(i).encode(), digest_size=16).hexdigest()


@pytest.mark.parametrize("kind", ["str", "int", "int-then-wide", "hex", "hex-then-text"])
def test_key_map_matches_a_dict(kind: str) -> None:
    rng = np.random.default_rng(3)
    keys = KeyMap(int if kind.startswith("int") else str)
    keys.MERGE = 7  # merge often
    ref: dict[object, int] = {}
    slot = 0
    free: list[int] = []  # slots of removed keys, reused as the index's pools reuse them
    reused = 0

    def take() -> int:
        nonlocal slot, reused
        if free and rng.random() < 0.5:
            reused += 1
            return free.pop(int(rng.integers(len(free))))
        slot += 1
        return slot - 1

    def key(i: int) -> object:
        if kind == "hex" or (kind == "hex-then-text" and i % 50 != 49):
            return _hex(i)
        if kind == "hex-then-text":  # not hex: upper case, a character short, or not ASCII
            return [_hex(i).upper(), _hex(i)[1:], f"p-{i}-ü"][i // 50 % 3]
        if kind == "int-then-wide" and i % 50 == 49:  # beyond 32 bits, either way
            return (i * 7919 + 2**40) * (-1) ** (i // 50)
        return f"p-{i}-ü" * (1 + i % 3) if kind == "str" else i * 7919 - 50

    def usable(i: int, round_: int) -> bool:  # "...-then-...": the other keys come from round 20 on
        return "-then-" not in kind or i % 50 != 49 or round_ >= 20

    for round_ in range(40):
        if round_ % 5 == 0:  # a block of new keys
            fresh = [
                key(int(i)) for i in rng.choice(400, 12, replace=False)
                if key(int(i)) not in ref and usable(int(i), round_)
            ]  # fmt: skip
            slots = np.array([take() for _ in fresh], dtype=np.int64)
            keys.put_many(keys.encode_many(fresh), slots)
            ref.update(zip(fresh, slots.tolist(), strict=True))
        for i in rng.integers(0, 400, 10).tolist():
            k = key(i)
            if k in ref:
                keys.pop(k)
                free.append(ref.pop(k))
            elif usable(i, round_):
                ref[k] = take()
                keys.put(k, ref[k])
        probe = [key(i) for i in range(400)]
        assert [keys.get(k) for k in probe] == [ref.get(k) for k in probe]
        assert keys.contains_many(keys.encode_many(probe)).tolist() == [k in ref for k in probe]
        assert all(keys.key_of(s) == k for k, s in ref.items())
        assert len(keys.keys) <= slot  # the keys are by slot, no more of them
        assert len(keys) == len(ref)
        if kind.startswith("hex") and round_ < 20:  # packed until the first other id
            assert keys.packed
        if kind.startswith("int") and round_ < 20:  # 32-bit until the first wider key
            assert keys.keys.dtype == np.int32
    assert reused > 50
    keys.merge()
    merged = keys.keys[keys.order]
    assert not keys.recent and not keys.dead and len(merged) == len(ref) and list(merged) == sorted(merged)
    if kind.startswith("hex"):
        assert keys.packed == (kind == "hex")
        assert keys.keys.dtype == np.dtype("S16" if kind == "hex" else "S32")
    if kind.startswith("int"):
        assert keys.keys.dtype == (np.int32 if kind == "int" else np.int64)


def test_hex_ids_are_keyed_as_16_bytes() -> None:
    ids = [uuid.UUID(int=int(i)).hex for i in np.random.default_rng(4).integers(0, 2**62, 1000)]
    packed, other = KeyMap(str), KeyMap(str)
    packed.put_many(packed.encode_many(ids), np.arange(1000))
    other.put_many(other.encode_many([i.upper() for i in ids]), np.arange(1000))
    assert packed.nbytes == 1000 * (16 + 4) and other.nbytes == 1000 * (32 + 4)  # key by slot, key order
    assert [packed.key_of(s) for s in range(1000)] == ids
    assert [packed.get(i) for i in ids] == list(range(1000)) and packed.get(ids[0].upper()) is None
    odd = [ids[0], ids[1].upper(), ids[2][:31], ids[3] + "0", "é" * 16, ""]
    raw, ok = pack_hex(np.array([i.encode() for i in odd], dtype=bytes))
    assert ok.tolist() == [True, False, False, False, False, False]
    assert unpack_hex(raw[:1]).tolist() == [ids[0].encode()]
    assert packed.contains_many(packed.encode_many(odd)).tolist() == ok.tolist()


def test_person_ids_of_32_bits_are_keyed_as_4_bytes() -> None:
    people = KeyMap(int)
    people.put_many(people.encode_many(list(range(0, 3000, 3))), np.arange(1000))
    assert people.nbytes == 1000 * (4 + 4) and people.get(2**40) is None and people.get(2**31) is None
    people.put(-(2**40), 1000)  # a wider key: 64-bit from now on
    people.merge()
    assert people.keys.dtype == np.int64 and people.get(-(2**40)) == 1000 and people.get(2997) == 999


def _units(index: MatchIndex) -> dict[str, list[tuple[str, ...]]]:
    """Every pool's units as sorted tuples of profile ids."""
    out = {}
    for kind, pool in index.pools.items():
        cols = np.flatnonzero(pool.valid[: pool.size]).tolist()
        out[kind] = sorted(tuple(index.pid_of(int(o)) for o in pool.owner[:, c]) for c in cols)
    return out


@pytest.mark.parametrize("ids", ["labels", "hex", "hex-then-text"])
def test_random_adds_replacements_and_removals_match_a_fresh_build(ids: str) -> None:
    rng = np.random.default_rng(11)
    roles = ["father", "mother", "father", "mother", "full_sibling", "grandparent", "other_relative"]
    live: dict[str, Entry] = {}
    index = MatchIndex(TABLE)
    person = 0
    step = 0

    def name(label: str) -> str:  # "hex-then-text": lab-shaped ids, then others from step 4 on
        if ids == "labels" or (ids == "hex-then-text" and step >= 4):
            return label
        return hashlib.blake2b(label.encode(), digest_size=16).hexdigest()

    def new_entry(case: int) -> Entry:
        nonlocal person
        person += 1
        if rng.random() < 0.25:
            return Entry(
                name(f"c{person}"), person, case, Side.CHILD, "child", "unknown", random_profile(TABLE, rng)
            )
        if live and rng.random() < 0.1:  # the same person sampled twice, or a mix-up: identity flags
            twin = live[sorted(live)[int(rng.integers(len(live)))]]
            return Entry(name(f"t{person}"), person, case, twin.side, twin.role, "unknown", twin.profile)
        role = roles[int(rng.integers(len(roles)))]
        side = Side.CLAIMED if rng.random() < 0.1 else Side.FAMILY
        return Entry(name(f"p{person}"), person, case, side, role, "unknown", random_profile(TABLE, rng))

    flagged = 0
    for step in range(8):
        block = [new_entry(int(rng.integers(0, 30))) for _ in range(25)]
        if step % 2:
            index.add_many(block, chunk=7)  # clashes with indexed cases go one by one
        else:
            for e in block:
                index.add(e)
        for e in block:
            live = {k: v for k, v in live.items() if v.person_id != e.person_id}
            live[e.profile_id] = e
        for pid in rng.choice(sorted(live), 4, replace=False).tolist():
            index.remove(pid)
            del live[pid]
        replaced = live[sorted(live)[0]]  # the same person retyped: a new profile replaces the old one
        retyped = Entry(name("r" + replaced.profile_id), replaced.person_id, replaced.case_id, replaced.side,
                        replaced.role, "unknown", random_profile(TABLE, rng))  # fmt: skip
        index.add(retyped)
        del live[replaced.profile_id]
        live[retyped.profile_id] = retyped
        if step == 6:
            index.remove_case(3)
            live = {k: v for k, v in live.items() if v.case_id != 3}
        fresh = MatchIndex(TABLE)
        for e in sorted(live.values(), key=lambda e: e.profile_id):
            fresh.add(e)
        assert sorted(index.profile_ids()) == sorted(live) and len(index) == len(live)
        assert _units(index) == _units(fresh)
        for pid, e in live.items():
            got = index.entry(pid)
            assert (got.person_id, got.case_id, got.side, got.role) == (
                e.person_id,
                e.case_id,
                e.side,
                e.role,
            )
            assert got.profile.genotypes == e.profile.genotypes
        for p in sorted(live)[:: max(1, len(live) // 4)]:
            got, want = index.search(p), fresh.search(p)
            assert got.comparisons == want.comparisons
            assert sorted(map(repr, got.flags)) == sorted(map(repr, want.flags))
            flagged += len(got.flags)
    assert flagged  # identity flags were compared too


def test_bulk_build_trims_and_counts_its_bytes() -> None:
    rng = np.random.default_rng(5)
    entries = []
    for i in range(1500):
        entries.append(Entry(f"f{i}", 2 * i, i, Side.FAMILY, "father", "male", random_profile(TABLE, rng)))
        entries.append(
            Entry(f"m{i}", 2 * i + 1, i, Side.FAMILY, "mother", "female", random_profile(TABLE, rng))
        )
    kid = child_of(entries[0].profile, entries[1].profile, rng)
    index = MatchIndex(TABLE)
    index.add_many(entries, chunk=1000)
    couples = index.pools["trio_couple"]
    assert index.persons.capacity == 3000 and couples.capacity == couples.size == 1500
    assert index.memory() < 3000 * 200
    index.add(Entry("kid", -1, -1, Side.CHILD, "child", "unknown", kid))
    assert [c.family_profile_ids for c in index.search("kid").comparisons] == [("f0", "m0")]


def test_index_bytes_per_profile_after_a_bulk_build() -> None:
    """Every array of a bulk-built index, counted: 66.5 bytes a profile of a couple with lab-shaped ids."""
    rng = np.random.default_rng(6)
    n_cases = 500
    entries = []
    for i in range(n_cases):
        for j, (role, sex) in enumerate((("father", "male"), ("mother", "female"))):
            pid = hashlib.blake2b(f"{i}-{j}".encode(), digest_size=16).hexdigest()
            entries.append(Entry(pid, 10 * i + j, i, Side.FAMILY, role, sex, random_profile(TABLE, rng)))
    index = MatchIndex(TABLE)
    index.add_many(entries, chunk=300)
    n = len(entries)
    assert index.persons.nbytes == n  # validity only: the person pool has no owner
    assert index._pids.nbytes == n * (16 + 4)  # key by slot and key order, no inverse array
    assert index._person_ids.dtype == np.int32 and index._person_ids.nbytes == n * 4  # no person id map
    codes = len(TABLE.markers) + 4  # one byte a marker, two for the 4 loci of more than 255 codes
    couples = n * codes + n_cases * (2 * 4 + 1)  # codes, two owners and the validity of each couple
    per_slot = n * (4 + 1 + 1 + 4 + 4)  # case id, side, role, home, person id
    assert index.memory() == couples + per_slot + n + n * 20  # ... + the person pool, the profile id map
    assert index.memory() / n == codes + 4.5 + 14 + 1 + 20 == 66.5  # 81.5 with the maps of before


def test_person_lookups_after_removals_and_replacements_match_a_dict() -> None:
    """A person's slot is found by a scan of the person ids by slot: as a dict, after removals, replacements,
    slots reused and blocks, with 32-bit ids and then wider ones."""
    rng = np.random.default_rng(8)
    index = MatchIndex(TABLE)
    ref: dict[int, str] = {}  # person id -> profile id
    serial = 0

    def person(i: int, wide: bool) -> int:
        return i + 2**40 if wide and i % 7 == 0 else i * 13 - 100

    for step in range(12):
        wide = step >= 8  # 32-bit person ids, then some beyond 32 bits
        block = []
        for i in rng.choice(300, 20, replace=False).tolist():
            serial += 1
            pid = f"p{serial}"
            block.append(Entry(pid, person(i, wide), i % 40, Side.FAMILY, ["father", "mother", "full_sibling"][i % 3],
                               "unknown", random_profile(TABLE, rng)))  # fmt: skip
        if step % 2:
            index.add_many(block, chunk=6)
        else:
            for e in block:
                index.add(e)
        for e in block:  # the same person again replaces its profile
            ref[e.person_id] = e.profile_id
        for p in rng.choice(sorted(ref), 5, replace=False).tolist():
            index.remove(ref.pop(p))
        if step == 5:
            index.remove_case(7)
            ref = {p: pid for p, pid in ref.items() if pid in index}
        probes = sorted({person(i, w) for i in range(300) for w in (False, True)} | {2**31, -(2**31) - 1})
        got = {p: index._person_slot(p) for p in probes}
        assert {p: index.pid_of(s) for p, s in got.items() if s is not None} == ref
        assert all(index.person_of(index.slot(pid)) == p for p, pid in ref.items())
        assert index._person_ids.dtype == (np.int64 if wide else np.int32)
        assert len(index) == len(ref)


def test_pool_codes_are_one_byte_a_marker_and_two_for_a_locus_of_more_than_255_codes() -> None:
    pool = Pool(np.array([54, 200, 255, 629, 256], dtype=np.uint16))
    assert pool.dtype == np.uint8 and pool.where.tolist() == [0, 1, 2, ~0, ~1] and pool.bytes_per_column == 7
    two_byte = Pool(np.array([54, 629], dtype=np.uint16), narrow=False)
    assert two_byte.dtype == np.uint16 and two_byte.bytes_per_column == 4
    shipped = Pool(TABLE_UNTYPED)
    assert shipped.bytes_per_column == len(TABLE.markers) + 4  # FGA, Penta E, D21S11, D6S1043: over 255 codes


def _index(table: FrequencyTable, narrow: bool) -> MatchIndex:
    index = MatchIndex(table)
    if not narrow:  # the same index with the two-byte (markers, columns) pools of before
        untyped = index.encoder.untyped
        index.loose = Pool(untyped, narrow=False)
        index.pools = {k: Pool(untyped, p.width, narrow=False) for k, p in index.pools.items()}
    return index


@pytest.mark.parametrize("small", [True, False], ids=["loci-under-256-codes", "shipped-table"])
def test_one_byte_codes_find_the_same_family_and_lr(small: bool) -> None:
    table = TABLE
    if small:
        table = FrequencyTable.from_loci(
            TABLE.locus(m) for m in TABLE.markers if len(TABLE.locus(m).alleles) <= 21
        )
    rng = np.random.default_rng(8)
    narrow, wide = _index(table, True), _index(table, False)
    entries = []
    for i in range(300):
        entries.append(Entry(f"f{i}", 2 * i, i, Side.FAMILY, "father", "male", random_profile(table, rng)))
        entries.append(
            Entry(f"m{i}", 2 * i + 1, i, Side.FAMILY, "mother", "female", random_profile(table, rng))
        )
    entries.append(Entry("twin", 9999, 9999, Side.FAMILY, "father", "male", entries[7].profile))
    kid = Entry(
        "kid", -1, -1, Side.CHILD, "child", "unknown", child_of(entries[4].profile, entries[5].profile, rng)
    )
    for index in (narrow, wide):
        index.add_many(entries)
        index.add(kid)
    assert narrow.pools["trio_couple"].codes(0).narrow.dtype == np.uint8
    assert wide.pools["trio_couple"].codes(0).narrow.dtype == np.uint16
    np.testing.assert_array_equal(
        narrow.pools["trio_couple"].codes(1).full(), wide.pools["trio_couple"].codes(1).full()
    )
    assert narrow.memory() < wide.memory()
    found = narrow.search("kid").comparisons
    assert [c.family_profile_ids for c in found][:1] == [("f2", "m2")]
    assert found == wide.search("kid").comparisons
    assert narrow.search("m2").comparisons == wide.search("m2").comparisons
    assert narrow.search("twin").flags == wide.search("twin").flags and narrow.search("twin").flags
    assert narrow.identical_pairs() == wide.identical_pairs()
    assert narrow.profile("f3") == entries[6].profile


def test_case_ids_beyond_32_bits_are_refused_before_anything_is_indexed() -> None:
    index = MatchIndex(TABLE)
    profile = random_profile(TABLE, np.random.default_rng(3))
    too_big = Entry("x", 1, 2**31, Side.FAMILY, "father", "male", profile)
    with pytest.raises(ValueError, match="32 bits"):
        index.add(too_big)
    with pytest.raises(ValueError, match="32 bits"):
        index.add_many([too_big])
    assert len(index) == 0 and "x" not in index
    index.add(Entry("y", 1, 2**31 - 1, Side.FAMILY, "father", "male", profile))
    assert index.entry("y").case_id == 2**31 - 1
