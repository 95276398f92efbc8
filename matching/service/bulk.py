"""The worker's start-up read: every usable current profile as `Block`s of code columns, no object per profile.

The same profiles, sides, roles, sexes and flags as `entries()` gives one by one (the same rules: `side_of`,
`recorded_sex`, the consent book of `intake.cases.consent`, `stored_profile`, `sex_conflict`), in the same order,
cut into the blocks `MatchIndex.add_many` would cut them into, so `add_blocks` builds the same index:

- rows: on PostgreSQL a binary COPY of the narrow columns of every row in the build's order (fixed width, read
  straight into numpy), then the current profiles' stored genotypes in table order (no sort of wide rows) from a
  binary server-side cursor, matched to their rows by sample id; elsewhere (SQLite) the same SELECT as
  `entries()`, its genotypes as stored;
- consent: the book of the cases in hand (`ConsentBook.recorded_many`), a batch at a time;
- genotypes: opened in bulk (`Keyring.decrypt_many`) and decoded by `matching.stored.StoredDecoder`; a text it
  cannot decode exactly is read by `stored_profile` and the encoder, one by one.

    blocks(session, encoder, chunk=100_000, flags=None, copy=None) -> Iterator[Block]
    release_free_memory() -> bool     hand the C allocator's free memory back to the system (glibc), after a build
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.cases.consent import ConsentBook
from intake.models import Case, DnaProfile, Person, Role, Sample, SampleSource, Sex
from intake.models._common import EncryptedJSON
from intake.platform import crypto
from matching.index import Encoder
from matching.profiles import Profile
from matching.search import Entry, Flag, sex_conflict
from matching.search.block import Block
from matching.search.units import SIDE_CODE, SIDES
from matching.service.entries import _rows, recorded_sex, sex_accepted, side_of, stored_profile
from matching.stored import AMELOGENIN, AMELOGENIN_VALUES, StoredDecoder

SOURCES, SEXES, ROLES = list(SampleSource), list(Sex), list(Role)
BATCH = 16_384  # rows whose consents are read at once, and profiles opened at once
LABEL = cast(EncryptedJSON, cast(sa.Table, DnaProfile.__table__).c.genotypes.type).label
WIDTH = max(len(v.value) for kind in (SampleSource, Sex, Role) for v in kind)


@dataclass
class _Rows:
    """Rows of the build in order, narrow columns as arrays (enums as indices of SOURCES, SEXES, ROLES)."""

    person_ids: npt.NDArray[np.int64]
    case_ids: npt.NDArray[np.int64]
    source: npt.NDArray[np.int8]
    sample_sex: npt.NDArray[np.int8]
    role: npt.NDArray[np.int8]
    child_sex: npt.NDArray[np.int8]
    reported: npt.NDArray[np.bool_]

    def take(self, rows: npt.NDArray[np.int64]) -> _Rows:
        return _Rows(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


class _Rules:
    """`side_of` and `recorded_sex` tabulated over every value of their arguments (the rules stay theirs)."""

    def __init__(self) -> None:
        self.side = np.full((len(SOURCES), len(ROLES)), -1, dtype=np.int8)
        self.role = np.full((len(SOURCES), len(ROLES)), -1, dtype=np.int8)
        self.role_names: list[str] = []
        for i, source in enumerate(SOURCES):
            for j, role in enumerate(ROLES):
                placed = side_of(source, role)
                if placed is not None:
                    if placed[1] not in self.role_names:
                        self.role_names.append(placed[1])
                    self.side[i, j] = SIDE_CODE[placed[0]]
                    self.role[i, j] = self.role_names.index(placed[1])
        self.sex = np.array(
            [[[SEXES.index(recorded_sex(s, r, c)) for c in SEXES] for r in ROLES] for s in SEXES],
            dtype=np.int8,
        )


class _Genotypes:
    """Stored genotypes opened and decoded in bulk into code columns (the rare odd text one by one)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.decoder = StoredDecoder(encoder)
        self.keyring = crypto.current()
        self.amelogenin: dict[tuple[str, ...], int] = {v: i for i, v in enumerate(AMELOGENIN_VALUES)}
        self.values: list[tuple[str, ...]] = list(AMELOGENIN_VALUES)  # by index, as `amelogenin` numbers them

    def read(
        self, sealed: Sequence[bytes]
    ) -> tuple[Any, npt.NDArray[np.bool_], npt.NDArray[np.int16], dict[int, Profile]]:
        """Return the code columns, which profiles are usable, their Amelogenin and the profiles kept whole."""
        text, offsets = self.keyring.decrypt_many(sealed, LABEL)
        decoded = self.decoder.decode(np.frombuffer(text, dtype=np.uint8), offsets)
        codes, usable = decoded.codes, decoded.ok.copy()
        amelogenin = decoded.amelogenin.astype(np.int16)
        odd: dict[int, Profile] = {}
        for i in np.flatnonzero(~decoded.ok).tolist():
            genotypes = json.loads(bytes(text[offsets[i] : offsets[i + 1]]))
            profile = stored_profile(genotypes) if genotypes else None  # an erased profile has no genotypes
            if profile is None:
                continue
            codes[:, i], whole = self.encoder.encode(profile)
            if whole:
                odd[i] = profile
            value = profile.other.get(AMELOGENIN)
            if value is not None:
                if tuple(value) not in self.amelogenin:
                    self.amelogenin[tuple(value)] = len(self.values)
                    self.values.append(tuple(value))
                amelogenin[i] = self.amelogenin[tuple(value)]
            usable[i] = True
        return codes, usable, amelogenin, odd


class _Reader:
    """What both reads share: the rules, consents, genotypes, sex check and blocks."""

    def __init__(self, session: Session, encoder: Encoder, flags: list[Flag]) -> None:
        self.session = session
        self.encoder = encoder
        self.flags = flags
        self.rules = _Rules()
        self.genotypes = _Genotypes(encoder)
        self.accepted = np.array(sorted(p.encode() for p in sex_accepted(session)), dtype=bytes)

    def eligible(self, rows: _Rows) -> npt.NDArray[np.bool_]:
        """Return which rows are on a side and, for a reported case, have the person's consents on record."""
        keep: npt.NDArray[np.bool_] = self.rules.side[rows.source, rows.role] >= 0
        for start in range(0, len(keep), BATCH):
            part = slice(start, start + BATCH)
            ask = np.flatnonzero(keep[part] & rows.reported[part]) + start
            if len(ask):
                cases, persons = rows.case_ids[ask], rows.person_ids[ask]
                book = ConsentBook.load(self.session, np.unique(cases).tolist(), reported_only=True)
                keep[ask] = book.recorded_many(cases.tolist(), persons.tolist())
        return keep

    def block(
        self, rows: _Rows, pids: npt.NDArray[Any], codes: Any, amelogenin: npt.NDArray[np.int16],
        odd: dict[int, Profile],
    ) -> Block:  # fmt: skip
        """Return the rows as a block, without those whose Amelogenin contradicts the recorded sex (flagged)."""
        sides = self.rules.side[rows.source, rows.role]
        sex = self.rules.sex[rows.sample_sex, rows.role, rows.child_sex]
        if len(self.accepted):
            sex = np.where(np.isin(pids, self.accepted), SEXES.index(Sex.UNKNOWN), sex)
        conflict = np.zeros(len(sides), dtype=bool)
        combo = (amelogenin.astype(np.int32) + 1) * 64 + sex  # each (Amelogenin, recorded sex) checked once
        for key in np.unique(combo).tolist():
            if self._conflict(key // 64 - 1, key % 64, None) is not None:
                conflict |= combo == key
        for i in np.flatnonzero(conflict).tolist():
            flag = self._conflict(int(amelogenin[i]), int(sex[i]), (pids[i], rows, i, int(sides[i])))
            assert flag is not None
            self.flags.append(flag)
        keep = np.flatnonzero(~conflict)
        return Block(
            profile_ids=pids[keep], person_ids=rows.person_ids[keep], case_ids=rows.case_ids[keep],
            sides=sides[keep], roles=self.rules.role[rows.source, rows.role][keep],
            role_names=self.rules.role_names, codes=codes[:, keep],
            odd=_moved(odd, keep),
        )  # fmt: skip

    def _conflict(self, amelogenin: int, sex: int, row: tuple[Any, _Rows, int, int] | None) -> Flag | None:
        """`sex_conflict` of an entry with this Amelogenin and recorded sex (of one row, or of any)."""
        other = {AMELOGENIN: self.genotypes.values[amelogenin]} if amelogenin >= 0 else {}
        pid, person, case, side, role = "", 0, 0, SIDES[0], ""
        if row is not None:
            raw, rows, i, side_code = row
            pid, person, case = bytes(raw).decode(), int(rows.person_ids[i]), int(rows.case_ids[i])
            side, role = (
                SIDES[side_code],
                self.rules.role_names[int(self.rules.role[rows.source[i], rows.role[i]])],
            )
        entry = Entry(pid, person, case, side, role, SEXES[sex].value, Profile({}, other))
        return sex_conflict(entry)


def blocks(
    session: Session, encoder: Encoder, chunk: int = 100_000, flags: list[Flag] | None = None,
    copy: bool | None = None,
) -> Iterator[Block]:  # fmt: skip
    """Yield every usable current profile as blocks of about `chunk` rows cut where the case changes (see the
    module docstring); sex conflicts are left out and their flags appended to `flags`. `copy`: read with COPY
    (default: on PostgreSQL)."""
    reader = _Reader(session, encoder, flags if flags is not None else [])
    if copy is None:
        copy = session.get_bind().dialect.name == "postgresql"
    return _cut(_copied(reader) if copy else _selected(reader), chunk)


def release_free_memory() -> bool:
    """Hand the C allocator's free memory back to the system; return whether it could (glibc only).

    A build frees its temporaries (the read's columns and ids, blocks, the driver's rows) in many pieces of every
    size, and glibc's malloc keeps freed heap memory in the process for later (below the top of the heap, in
    arenas, and arrays up to its raised mmap threshold of 32 MB): resident but unused. `malloc_trim(0)` releases
    the free pages. Elsewhere (no glibc, no `malloc_trim`) nothing is done.
    """
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True


def _cut(parts: Iterator[Block], chunk: int) -> Iterator[Block]:
    """Re-cut a stream of blocks into blocks of at least `chunk` rows, each cut where the case changes (as
    `add_many` cuts its entries)."""
    rest: Block | None = None
    for part in parts:
        block = part if rest is None else Block.concat([rest, part])
        cases, start = block.case_ids, 0
        while len(block) - start > chunk:
            change = np.flatnonzero(cases[start + chunk :] != cases[start + chunk - 1 : -1])
            if not len(change):
                break
            cut = start + chunk + int(change[0])
            yield block.take(np.arange(start, cut))
            start = cut
        rest = block.take(np.arange(start, len(block))) if start else block
    if rest is not None and len(rest):
        yield rest


def _moved(odd: dict[int, Profile], rows: npt.NDArray[np.int64]) -> dict[int, Profile]:
    """Return `odd` (row -> profile) for the rows kept (`rows`, ascending), numbered by their new places."""
    if not odd:
        return {}
    keys = np.array(sorted(odd), dtype=np.int64)
    at = np.minimum(np.searchsorted(rows, keys), max(len(rows) - 1, 0))
    kept = (rows[at] == keys) if len(rows) else np.zeros(len(keys), dtype=bool)
    return {int(i): odd[int(k)] for k, i, ok in zip(keys, at, kept, strict=True) if ok}


def _selected(reader: _Reader) -> Iterator[Block]:
    """The rows by the SELECT of `entries()` (any database), a batch at a time."""
    index = {kind: {v: i for i, v in enumerate(values)} for kind, values in (("source", SOURCES), ("sex", SEXES),
                                                                              ("role", ROLES))}  # fmt: skip
    result = reader.session.execute(
        _rows(reader.session, None, sealed=True).execution_options(yield_per=BATCH)
    )
    for batch in result.partitions():
        pid, sealed, source, sample_sex, person, role, case, child_sex, reported = zip(*batch, strict=True)
        rows = _Rows(
            np.array(person, dtype=np.int64), np.array(case, dtype=np.int64),
            np.array([index["source"][v] for v in source], dtype=np.int8),
            np.array([index["sex"][v] for v in sample_sex], dtype=np.int8),
            np.array([index["role"][v] for v in role], dtype=np.int8),
            np.array([index["sex"][v] for v in child_sex], dtype=np.int8),
            np.array([r is not None for r in reported], dtype=bool),
        )  # fmt: skip
        keep = np.flatnonzero(reader.eligible(rows))
        codes, usable, amelogenin, odd = reader.genotypes.read([_bytes(sealed[i]) for i in keep.tolist()])
        use = np.flatnonzero(usable)
        pids = np.array([pid[i].encode() for i in keep[use].tolist()], dtype=bytes)
        yield reader.block(
            rows.take(keep[use]), pids if len(use) else np.empty(0, "S1"), codes[:, use], amelogenin[use],
            _moved(odd, use),
        )  # fmt: skip


def _copied(reader: _Reader) -> Iterator[Block]:
    """The rows of PostgreSQL: a binary COPY of the narrow columns in order, then the genotypes (cursor).

    One block of every usable row; the read's temporaries (every eligible row's narrow columns, codes and ids,
    the last batch of stored values) are gone by the time the index takes it (they are `_copied_block`'s)."""
    yield _copied_block(reader)


def _copied_block(reader: _Reader) -> Block:
    session = reader.session
    pad = [
        sa.func.rpad(sa.cast(c, sa.String), WIDTH)
        for c in (Sample.source, Sample.sex, Person.role, Case.child_sex)
    ]
    keys = [sa.cast(c, sa.BigInteger) for c in (Sample.id, Person.id, Case.id)]
    narrow: sa.Select[*tuple[Any, ...]] = _rows(session, None).with_only_columns(
        *keys, *pad, Case.reported_by_contact_id.is_not(None)
    )
    text = f"S{WIDTH}"
    layout = np.dtype(
        [("fields", ">i2")]
        + [f for name in ("sample", "person", "case") for f in ((f"n_{name}", ">i4"), (name, ">i8"))]
        + [
            f
            for name in ("source", "sample_sex", "role", "child_sex")
            for f in ((f"n_{name}", ">i4"), (name, text))
        ]
        + [("n_reported", ">i4"), ("reported", "?")]
    )
    widths = {"sample": 8, "person": 8, "case": 8, "reported": 1} | dict.fromkeys(
        ("source", "sample_sex", "role", "child_sex"), WIDTH
    )
    parts: list[tuple[_Rows, npt.NDArray[np.int64]]] = []
    for table in _fixed_rows(session, narrow, layout):
        if not (
            (table["fields"] == len(widths)).all()
            and all((table[f"n_{k}"] == w).all() for k, w in widths.items())
        ):
            raise RuntimeError("the index build's COPY returned rows of an unexpected layout")
        part = _Rows(
            table["person"].astype(np.int64), table["case"].astype(np.int64),
            _codes(table["source"], SampleSource, SOURCES), _codes(table["sample_sex"], Sex, SEXES),
            _codes(table["role"], Role, ROLES), _codes(table["child_sex"], Sex, SEXES),
            table["reported"].astype(bool),
        )  # fmt: skip
        parts.append((part, table["sample"].astype(np.int64)))
    fields = list(_Rows.__dataclass_fields__)
    rows = _Rows(
        *(np.concatenate([getattr(p, f) for p, _ in parts] or [np.zeros(0, np.int64)]) for f in fields)
    )
    samples = np.concatenate([s for _, s in parts] or [np.zeros(0, np.int64)])
    del parts
    keep = np.flatnonzero(reader.eligible(rows))
    rows, samples = rows.take(keep), samples[keep]
    n = len(samples)
    codes = np.repeat(reader.encoder.untyped[:, None], n, axis=1)
    usable = np.zeros(n, dtype=bool)
    amelogenin = np.full(n, -1, dtype=np.int16)
    pids = np.zeros(n, dtype="S32")
    width = 1
    odd: dict[int, Profile] = {}
    order = np.argsort(samples, kind="stable")
    by_sample = samples[order]
    stored: sa.Select[*tuple[Any, ...]] = sa.select(
        sa.cast(DnaProfile.sample_id, sa.BigInteger),
        DnaProfile.id,
        sa.type_coerce(DnaProfile.genotypes, sa.LargeBinary),
    ).where(DnaProfile.replaced_at.is_(None))
    for sample_ids, ids, sealed in _profile_batches(session, stored):
        at = np.minimum(np.searchsorted(by_sample, sample_ids), max(n - 1, 0))
        hit = np.flatnonzero(by_sample[at] == sample_ids) if n else np.zeros(0, dtype=np.int64)
        if not len(hit):
            continue
        target = order[at[hit]]
        part, ok, amel, whole = reader.genotypes.read([sealed[i] for i in hit.tolist()])
        codes[:, target] = part
        usable[target] = ok
        amelogenin[target] = amel
        odd.update({int(target[i]): p for i, p in whole.items()})
        encoded = np.array([ids[i].encode() for i in hit.tolist()], dtype=bytes)
        if encoded.dtype.itemsize > pids.dtype.itemsize:
            pids = pids.astype(encoded.dtype)
        pids[target] = encoded
        width = max(width, encoded.dtype.itemsize)
    use = np.flatnonzero(usable)
    pids = pids.astype(f"S{width}")  # as wide as the longest id, as the index would key them one by one
    return reader.block(rows.take(use), pids[use], codes[:, use], amelogenin[use], _moved(odd, use))


def _codes(values: npt.NDArray[Any], kind: Any, members: list[Any]) -> npt.NDArray[np.int8]:
    """Return enum values read as padded text as indices of `members`."""
    distinct, inverse = np.unique(values, return_inverse=True)
    index = np.array([members.index(kind(bytes(v).decode().rstrip(" "))) for v in distinct], dtype=np.int8)
    return index[inverse.reshape(-1)] if len(distinct) else np.zeros(0, dtype=np.int8)


def _bytes(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)  # as `EncryptedJSON` reads it


@contextlib.contextmanager
def _copy_out(session: Session, query: sa.Select[*tuple[Any, ...]]) -> Iterator[Any]:
    """Open a binary COPY of a query's rows on the session's connection, in its transaction (psycopg 3)."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    with driver.cursor() as cursor, cursor.copy(f"COPY ({compiled}) TO STDOUT (FORMAT BINARY)") as copy:
        yield copy


def _fixed_rows(
    session: Session, query: sa.Select[*tuple[Any, ...]], layout: np.dtype[Any]
) -> Iterator[npt.NDArray[Any]]:
    """Yield the rows of a binary COPY of fixed-width rows as structured arrays, a few MB at a time."""
    size = layout.itemsize
    pending = bytearray()
    header = True
    with _copy_out(session, query) as copy:
        for data in copy:
            pending += data
            if len(pending) < 1 << 22:
                continue
            if header:
                pending, header = _skip_header(pending), False
            whole = len(pending) // size * size
            yield np.frombuffer(bytes(pending[:whole]), dtype=layout)
            del pending[:whole]
    if header:
        pending = _skip_header(pending)
    whole = len(pending) // size * size
    if whole:
        yield np.frombuffer(bytes(pending[:whole]), dtype=layout)
    if bytes(pending[whole:]) != b"\xff\xff":
        raise RuntimeError("the index build's COPY ended unexpectedly")


def _skip_header(data: bytearray) -> bytearray:
    """Drop the binary COPY header: signature, flags, header extension."""
    if not data.startswith(b"PGCOPY\n\xff\r\n\x00"):
        raise RuntimeError("the index build's COPY did not start with the binary signature")
    extension = int.from_bytes(data[15:19], "big")
    return data[19 + extension :]


def _profile_batches(
    session: Session, query: sa.Select[*tuple[Any, ...]]
) -> Iterator[tuple[npt.NDArray[np.int64], list[str], list[bytes]]]:
    """Yield (sample ids, profile ids, stored genotypes) a batch at a time, from a server-side cursor in binary
    (rows parsed by psycopg's C loaders a batch at a time: a COPY hands over one row per call)."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    with driver.cursor(name="reunite_index_build", binary=True) as cursor:
        cursor.itersize = BATCH
        cursor.execute(str(compiled))
        while batch := cursor.fetchmany(BATCH):
            yield _columns(batch)


def _columns(batch: list[Any]) -> tuple[npt.NDArray[np.int64], list[str], list[bytes]]:
    samples, ids, sealed = zip(*batch, strict=True)
    return np.array(samples, dtype=np.int64), list(ids), list(sealed)
