"""Key rotation: seal every encrypted value and photo with the newest data key, in batches, while the service runs.

    encrypted_columns() -> list[EncryptedColumn]        every column of type EncryptedJSON
    key_usage(session_factory) -> dict[str, Counter]    per column, how many values each key id sealed
    reencrypt(session_factory, keyring, data_dir) -> Report

Each batch is read and written in its own short transaction, with a compare-and-set UPDATE (`WHERE id = … AND
value = <as read>`), so a value the service changed meanwhile is never overwritten with the old one: it is
counted as skipped (the service wrote it with its own newest key) and a second run picks up whatever is left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from intake.models._common import EncryptedJSON
from intake.platform import crypto
from intake.platform.db import Base
from intake.platform.photos import reencrypt_photos

BATCH = 1_000
PLAINTEXT = "plaintext"


@dataclass(frozen=True)
class EncryptedColumn:
    """One encrypted column, seen as raw bytes (no decryption): a lightweight table of its key and value."""

    table: str
    key: str
    column: str
    label: str

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    def raw(self) -> sa.TableClause:
        return sa.table(self.table, sa.column(self.key), sa.column(self.column))


def encrypted_columns() -> list[EncryptedColumn]:
    """Return every column stored encrypted, found on the models (a new EncryptedJSON column is rotated too)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, EncryptedJSON):
                (key,) = table.primary_key.columns
                found.append(EncryptedColumn(table.name, key.name, col.name, col.type.label))
    return found


def key_usage(session_factory: sessionmaker[Session]) -> dict[str, Counter[str]]:
    """Return, per encrypted column, how many values each key id sealed ("plaintext": not yet encrypted)."""
    usage: dict[str, Counter[str]] = {}
    with session_factory() as session:
        for col in encrypted_columns():
            raw = col.raw()
            head = sa.func.substr(raw.c[col.column], 1, crypto.HEADER_BYTES)
            counts: Counter[str] = Counter()
            for prefix, n in session.execute(sa.select(head, sa.func.count()).group_by(head)):
                counts[crypto.sealed_key_id(_bytes(prefix)) or PLAINTEXT] += n
            usage[col.name] = counts
    return usage


def _bytes(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode()
    assert isinstance(value, bytes | bytearray | memoryview)
    return bytes(value)


@dataclass
class Report:
    """What a re-encryption did: per column and for photos, values sealed anew, already current, skipped."""

    sealed: Counter[str] = field(default_factory=Counter)
    current: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def _column(session_factory: sessionmaker[Session], keyring: crypto.Keyring, col: EncryptedColumn,
            report: Report, batch: int) -> None:  # fmt: skip
    raw = col.raw()
    key, value = raw.c[col.key], raw.c[col.column]
    last: object = None
    while True:
        with session_factory() as session:
            query = sa.select(key, value).order_by(key).limit(batch)
            if last is not None:
                query = query.where(key > last)
            rows = session.execute(query).all()
            if not rows:
                return
            last = rows[-1][0]
            changes = []
            for row_id, stored in rows:
                if stored is None:
                    continue
                new = keyring.reseal(_bytes(stored), col.label)
                if new is None:
                    report.current[col.name] += 1
                else:
                    changes.append({"row": row_id, "old": stored, "new": new})
            if changes:
                # One round trip per batch (executemany); the summed row count says how many still held the
                # value read: the others were changed meanwhile and keep the service's value.
                result = session.execute(
                    sa.update(raw)
                    .where(key == sa.bindparam("row"), value == sa.bindparam("old"))
                    .values({col.column: sa.bindparam("new")}),
                    changes,
                )
                changed = cast(CursorResult[Any], result).rowcount
                report.sealed[col.name] += changed
                report.skipped[col.name] += len(changes) - changed
            session.commit()


def reencrypt(session_factory: sessionmaker[Session], keyring: crypto.Keyring, data_dir: Path,
              batch: int = BATCH) -> Report:  # fmt: skip
    """Seal every encrypted value and photo not sealed with the keyring's newest key (plaintext too) with it."""
    report = Report()
    for col in encrypted_columns():
        _column(session_factory, keyring, col, report, batch)
    sealed, current = reencrypt_photos(data_dir, keyring)
    report.sealed["photos"] += sealed
    report.current["photos"] += current
    return report
