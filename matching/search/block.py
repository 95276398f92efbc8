"""Many entries as columns (`Block`): what the bulk build hands the index instead of one `Entry` per profile.

A block holds rows in the build's order: profile ids (UTF-8 bytes, as `matching.index.KeyMap` keys them),
person and case ids, side and role codes, and the genotype code columns already encoded with the index's
`Encoder` (in its dtype). Only a row the codes cannot hold whole (a marker or allele the table lacks) carries its
`Profile`, in `odd`. Sex is not a column: a block's rows were checked against their recorded sex already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.fast import Codes
from matching.index import Encoder
from matching.profiles import Profile
from matching.search.entry import Entry
from matching.search.units import SIDE_CODE, SIDES


@dataclass
class Block:
    """Rows of entries as arrays (see the module docstring); `roles` index `role_names`."""

    profile_ids: npt.NDArray[Any]  # bytes (numpy "S"), UTF-8
    person_ids: npt.NDArray[np.int64]
    case_ids: npt.NDArray[np.int64]
    sides: npt.NDArray[np.int8]  # `units.SIDE_CODE`
    roles: npt.NDArray[np.int8]
    role_names: Sequence[str]
    codes: Codes  # (markers, rows)
    odd: dict[int, Profile] = field(default_factory=dict)  # row -> the whole profile

    def __len__(self) -> int:
        return len(self.person_ids)

    @classmethod
    def of_entries(cls, entries: Sequence[Entry], encoder: Encoder) -> Block:
        """Return the block of entries (their profiles encoded at once by `encoder.encode_many`)."""
        codes, odd = encoder.encode_many([e.profile for e in entries])
        names = sorted({e.role for e in entries})
        code = {name: i for i, name in enumerate(names)}
        ids = [e.profile_id.encode() for e in entries]
        return cls(
            profile_ids=np.array(ids, dtype=bytes) if ids else np.empty(0, "S1"),
            person_ids=np.array([e.person_id for e in entries], dtype=np.int64),
            case_ids=np.array([e.case_id for e in entries], dtype=np.int64),
            sides=np.array([SIDE_CODE[e.side] for e in entries], dtype=np.int8),
            roles=np.array([code[e.role] for e in entries], dtype=np.int8),
            role_names=names,
            codes=codes,
            odd={i: entries[i].profile for i in np.flatnonzero(odd).tolist()},
        )

    @classmethod
    def concat(cls, blocks: Sequence[Block]) -> Block:
        """Return one block of the rows of several (with the same `role_names`), in order."""
        if len(blocks) == 1:
            return blocks[0]
        odd: dict[int, Profile] = {}
        start = 0
        for block in blocks:
            odd.update({start + i: p for i, p in block.odd.items()})
            start += len(block)
        width = max(b.profile_ids.dtype.itemsize for b in blocks)
        return cls(
            np.concatenate([b.profile_ids.astype(f"S{width}") for b in blocks]),
            np.concatenate([b.person_ids for b in blocks]), np.concatenate([b.case_ids for b in blocks]),
            np.concatenate([b.sides for b in blocks]), np.concatenate([b.roles for b in blocks]),
            blocks[0].role_names, np.concatenate([b.codes for b in blocks], axis=1), odd,
        )  # fmt: skip

    def take(self, rows: npt.NDArray[np.int64]) -> Block:
        """Return the block of some rows (indices, in the order given)."""
        odd: dict[int, Profile] = {}
        if self.odd:
            for i in np.flatnonzero(np.isin(rows, list(self.odd))).tolist():
                odd[i] = self.odd[int(rows[i])]
        return Block(
            self.profile_ids[rows], self.person_ids[rows], self.case_ids[rows], self.sides[rows],
            self.roles[rows], self.role_names, self.codes[:, rows], odd,
        )  # fmt: skip

    def entry(self, row: int, encoder: Encoder) -> Entry:
        """Return one row as an Entry (sex "unknown": it was checked), its profile decoded from the codes."""
        profile = self.odd.get(row)
        return Entry(
            profile_id=bytes(self.profile_ids[row]).decode(),
            person_id=int(self.person_ids[row]),
            case_id=int(self.case_ids[row]),
            side=SIDES[int(self.sides[row])],
            role=self.role_names[int(self.roles[row])],
            sex="unknown",
            profile=profile if profile is not None else encoder.decode(self.codes[:, row]),
        )
