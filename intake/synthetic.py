"""Synthetic populations in the database, for benchmarks and demos: `reunite synth` writes, `--clear` removes.

`matching.synthetic` draws the genotypes; this module writes them as the intake would have: reported cases of
missing children (father and mother persons, the case's consents on record, a sample and a typed profile per typed
person, sometimes a typed full sibling or grandparent), and found-child cases (rescued, suspected kidnapped,
unknown identity) with the child's sample and profile. Every synthetic case reference starts with "SYN-" and
every synthetic row hangs off such a case (the one synthetic lab aside), so nobody mistakes them for real ones and
`clear` removes exactly them. Which found child belongs to which family (the truth) goes to a JSON file, never into
the database.

Rows are written with SQLAlchemy Core executemany in chunks (ids come back with RETURNING, in parameter order), one
transaction per chunk of families or children.

    populate(engine, config, *, seed, truth_path, progress) -> Summary      clear(engine) -> dict[str, int]
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from intake.dialogue.casefile import CONSENT_TEXT_VERSION
from intake.models import (
    Case,
    CaseStatus,
    Channel,
    Consent,
    ConsentScope,
    DnaProfile,
    FoundChild,
    Lab,
    Person,
    Role,
    Sample,
    SampleSource,
    SampleStatus,
    Sex,
    utcnow,
)
from intake.models._common import EncryptedJSON
from intake.platform.db import Base
from matching.frequencies import FrequencyTable
from matching.synthetic import Config, Families, Found, FoundSource, Generator, RelativeKind, genotype_dicts

PREFIX = "SYN-"
ACTOR = "synth"
LAB_NAME = "SYN synthetic lab (not a real lab)"
LAB_CITY = "synthetic"
FOUND_SOURCES = {
    FoundSource.RESCUED: SampleSource.RESCUED_CHILD,
    FoundSource.SUSPECTED_KIDNAPPED: SampleSource.SUSPECTED_KIDNAPPED_CHILD,
    FoundSource.UNKNOWN_IDENTITY: SampleSource.UNKNOWN_IDENTITY_CHILD,
}
RELATIVE_ROLES = {RelativeKind.FULL_SIBLING: Role.FULL_SIBLING, RelativeKind.GRANDPARENT: Role.GRANDPARENT}

CASES, CONSENTS, PROFILES, FOUND, LABS, PERSONS, SAMPLES = (
    cast(sa.Table, model.__table__) for model in (Case, Consent, DnaProfile, FoundChild, Lab, Person, Sample)
)
Person_ = tuple[
    int, int, SampleSource, Sex, int, dict[str, list[str]]
]  # case, person, source, sex, kit, genotypes
Progress = Callable[[str, int], None]  # (what: "families" | "children", how many more are written)


@dataclass
class Summary:
    """What one `populate` run wrote, for the closing screen and the truth file."""

    run: str
    seed: int | None
    families: int = 0
    children: int = 0
    true_children: int = 0
    mutated_children: int = 0
    trios: int = 0
    one_parent: int = 0
    relatives: dict[str, int] = field(default_factory=dict)
    kits: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    truth_path: str = ""


def default_truth_path(data_dir: Path, run: str) -> Path:
    """Return where a run's truth file goes by default: the data folder's `synth/` subfolder."""
    return data_dir / "synth" / f"truth-{run}.json"


def _synthetic_lab(conn: Connection) -> int:
    labs = LABS
    found = conn.execute(
        sa.select(labs.c.id).where(labs.c.name == LAB_NAME, labs.c.city == LAB_CITY)
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    row = conn.execute(
        sa.insert(labs).returning(labs.c.id),
        {"name": LAB_NAME, "province": LAB_CITY, "city": LAB_CITY, "address": "-", "opening_days": "",
         "opening_hours": "", "daily_capacity": 0, "is_demo": True, "active": False, "created_at": utcnow()},
    )  # fmt: skip
    return int(row.scalar_one())


def _insert_ids(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows and return their new ids in the order of `rows`.

    PostgreSQL: ids are taken from the table's own sequence (so concurrent writers never collide) and the rows go
    in by COPY; elsewhere an executemany INSERT ... RETURNING in parameter order.
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        ids = [
            int(i)
            for i in conn.execute(
                sa.text(
                    f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"
                ),
                {"n": len(rows)},
            ).scalars()
        ]
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        _copy(conn, table, rows)
        return ids
    result = conn.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [int(i) for i in result.scalars()]


def _insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, rows)
    else:
        conn.execute(sa.insert(table), rows)


def _plain(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def _seal(table: sa.Table, column: str, value: object, conn: Connection) -> bytes | None:
    encrypted = cast(EncryptedJSON, table.c[column].type)
    return encrypted.process_bind_param(value, conn.dialect)


def _copy(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """COPY rows (all with the keys of the first) into `table`, in the connection's transaction (psycopg 3)."""
    columns = list(rows[0])
    driver = conn.connection.driver_connection
    assert driver is not None
    quoted = ", ".join(f'"{c}"' for c in columns)
    # COPY bypasses SQLAlchemy's types, so the encrypted columns (genotypes) are sealed here as the type would.
    sealed = {c for c in columns if isinstance(table.c[c].type, EncryptedJSON)}
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [_seal(table, c, row[c], conn) if c in sealed else _plain(row[c]) for c in columns]
            )


class _Writer:
    """Writes the chunks of one run; numbers samples and profiles with the run's tag."""

    def __init__(
        self, conn_engine: Engine, table: FrequencyTable, generator: Generator, summary: Summary
    ) -> None:
        self.engine = conn_engine
        self.table = table
        self.gen = generator
        self.summary = summary
        self.run = summary.run
        self.now = utcnow()
        self.today = self.now.date()
        self.serial = 0
        self.rows: Counter[str] = Counter()
        self.lab_id = 0
        self.kit_markers = [k.markers for k in generator.kits]
        self.kit_names = [k.name for k in generator.kits]
        # family row -> case reference and profile ids, for the truth file (only the families of true children)
        self.true_families: dict[int, dict[str, Any]] = {}

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _samples_and_profiles(self, conn: Connection, people: Sequence[Person_]) -> list[str]:
        """Write (case_id, person_id, source, sex, kit, genotypes) as samples with their profiles; return profile ids."""
        sample_rows = []
        for case_id, person_id, source, sex, _kit, _g in people:
            serial = self._next()
            sample_rows.append(
                {"code": f"SYN{self.run}{serial:09d}", "source": source, "status": SampleStatus.PROFILED,
                 "case_id": case_id, "person_id": person_id, "lab_id": self.lab_id, "sex": sex,
                 "created_at": self.now, "updated_at": self.now}
            )  # fmt: skip
        sample_ids = _insert_ids(conn, SAMPLES, sample_rows)
        profile_rows = []
        ids = []
        for sample_id, code, (_c, _p, _s, sex, kit, genotypes) in zip(
            sample_ids, (str(r["code"]) for r in sample_rows), people, strict=True
        ):
            markers = len(genotypes)
            genotypes["Amelogenin"] = ["X", "Y"] if sex is Sex.MALE else ["X"]
            canonical = json.dumps(genotypes, sort_keys=True, separators=(",", ":"))
            # Shaped as the labs' ids (`secrets.token_hex(16)`: 32 lowercase hex characters), so that the index
            # keys them as it keys real ones (`matching.index.KeyMap`); unique per sample code, reproducible.
            profile_id = hashlib.blake2b(code.encode(), digest_size=16).hexdigest()
            ids.append(profile_id)
            profile_rows.append(
                {"id": profile_id, "sample_id": sample_id, "lab_id": self.lab_id, "kit": self.kit_names[kit],
                 "genotypes": genotypes, "autosomal_markers": markers,
                 "digest": hashlib.sha256(canonical.encode()).hexdigest(), "uploaded_by": ACTOR,
                 "created_at": self.now}
            )  # fmt: skip
            self.summary.kits[self.kit_names[kit]] = self.summary.kits.get(self.kit_names[kit], 0) + 1
        _insert(conn, PROFILES, profile_rows)
        self.rows["samples"] += len(sample_rows)
        self.rows["profiles"] += len(profile_rows)
        return ids

    def _genotypes(self, alleles: np.ndarray, kits: np.ndarray) -> list[dict[str, list[str]]]:
        out: list[dict[str, list[str]]] = [{} for _ in range(len(alleles))]
        for k, markers in enumerate(self.kit_markers):
            where = np.flatnonzero(kits == k)
            if where.size:
                for i, g in zip(
                    where.tolist(), genotype_dicts(self.table, alleles[where], markers), strict=True
                ):
                    out[i] = g
        return out

    def families(self, conn: Connection, fam: Families, rng: np.random.Generator) -> None:
        n = len(fam)
        summary = self.summary
        case_rows = [
            {"reference": f"{PREFIX}MC-{self.run}-{fam.start + i:07d}", "pin": f"{int(p):06d}",
             "status": CaseStatus.PROFILED, "child_sex": Sex.MALE if male else Sex.FEMALE,
             "child_age_years": int(age), "description": "synthetic case (reunite synth)",
             "created_at": self.now, "updated_at": self.now}
            for i, (p, male, age) in enumerate(
                zip(rng.integers(0, 1_000_000, n), fam.child_male.tolist(), rng.integers(1, 16, n), strict=True)
            )
        ]  # fmt: skip
        case_ids = _insert_ids(conn, CASES, case_rows)
        _insert(
            conn,
            CONSENTS,
            [
                {"case_id": case_id, "scope": scope, "granted": True, "channel": Channel.SMS, "language": "zh_CN",
                 "text_version": CONSENT_TEXT_VERSION, "recorded_at": self.now}
                for case_id in case_ids for scope in (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING)
            ],
        )  # fmt: skip
        self.rows["consents"] += 2 * n
        # persons: father and mother of every case, then the typed relatives
        person_rows: list[dict[str, Any]] = []
        members: list[tuple[int, str, Role]] = []  # (family row, "father"|"mother"|"relative", role)
        for i, case_id in enumerate(case_ids):
            for who, role in (("father", Role.FATHER), ("mother", Role.MOTHER)):
                person_rows.append({"case_id": case_id, "role": role, "created_at": self.now})
                members.append((i, who, role))
            kind = RelativeKind(int(fam.relative_kind[i]))
            if kind is not RelativeKind.NONE:
                person_rows.append({"case_id": case_id, "role": RELATIVE_ROLES[kind], "created_at": self.now})
                members.append((i, "relative", RELATIVE_ROLES[kind]))
                summary.relatives[kind.name.lower()] = summary.relatives.get(kind.name.lower(), 0) + 1
        person_ids = _insert_ids(conn, PERSONS, person_rows)
        self.rows["persons"] += len(person_ids)
        typed = {"father": fam.father_typed, "mother": fam.mother_typed, "relative": fam.relative_kind > 0}
        alleles = {"father": fam.father, "mother": fam.mother, "relative": fam.relative}
        kit_col = {"father": 0, "mother": 1, "relative": 2}
        picks = [
            (i, who, pid) for pid, (i, who, _r) in zip(person_ids, members, strict=True) if typed[who][i]
        ]
        genotypes: dict[int, dict[str, list[str]]] = {}
        for who in ("father", "mother", "relative"):  # turn the drawn alleles into text role by role
            idx = [k for k, (_i, w, _p) in enumerate(picks) if w == who]
            if idx:
                rows = np.array([picks[k][0] for k in idx], dtype=np.int64)
                drawn = self._genotypes(alleles[who][rows], fam.kit[rows, kit_col[who]])
                genotypes.update(zip(idx, drawn, strict=True))
        people = [
            (case_ids[i], pid, SampleSource.REPORTING_PARENT, _sex(fam, i, who), int(fam.kit[i, kit_col[who]]),
             genotypes[k])
            for k, (i, who, pid) in enumerate(picks)
        ]  # fmt: skip
        profile_ids = self._samples_and_profiles(conn, people)
        for i in range(n):
            if fam.start + i in self.gen.true_slots:
                self.true_families[fam.start + i] = {"family_case": case_rows[i]["reference"], "profiles": {}}
        for (i, who, _pid), profile_id in zip(picks, profile_ids, strict=True):
            entry = self.true_families.get(fam.start + i)
            if entry is not None:
                key = (
                    who
                    if who != "relative"
                    else RELATIVE_ROLES[RelativeKind(int(fam.relative_kind[i]))].value
                )
                entry["profiles"][key] = profile_id
        summary.families += n
        summary.trios += int((fam.father_typed & fam.mother_typed).sum())
        summary.one_parent += int((fam.father_typed ^ fam.mother_typed).sum())

    def found(self, conn: Connection, found: Found, rng: np.random.Generator) -> list[dict[str, Any]]:
        n = len(found)
        ages = rng.integers(1, 19, n).tolist()
        case_rows = [
            {"reference": f"{PREFIX}FC-{self.run}-{found.start + i:07d}", "pin": f"{int(p):06d}",
             "status": CaseStatus.PROFILED, "child_sex": Sex.MALE if male else Sex.FEMALE,
             "child_age_years": age, "description": "synthetic found child (reunite synth)",
             "created_at": self.now, "updated_at": self.now}
            for i, (p, male, age) in enumerate(zip(rng.integers(0, 1_000_000, n), found.male.tolist(), ages, strict=True))
        ]  # fmt: skip
        case_ids = _insert_ids(conn, CASES, case_rows)
        sources = [FOUND_SOURCES[FoundSource(int(s))] for s in found.source]
        _insert(
            conn,
            FOUND,
            [
                {"case_id": case_id, "source": source, "found_place": "synthetic", "registered_by": ACTOR,
                 "found_date": self.today - timedelta(days=int(d)), "estimated_age_years": age,
                 "created_at": self.now}
                for case_id, source, d, age in zip(case_ids, sources, rng.integers(0, 365, n), ages, strict=True)
            ],
        )  # fmt: skip
        person_ids = _insert_ids(
            conn,
            PERSONS,
            [{"case_id": c, "role": Role.CHILD, "created_at": self.now} for c in case_ids],
        )
        self.rows["persons"] += n
        genotypes = self._genotypes(found.genotypes, found.kit)
        profile_ids = self._samples_and_profiles(
            conn,
            [
                (case_id, person_id, source, Sex.MALE if male else Sex.FEMALE, int(kit), g)
                for case_id, person_id, source, male, kit, g in zip(
                    case_ids, person_ids, sources, found.male.tolist(), found.kit, genotypes, strict=True
                )
            ],
        )
        truth = []
        for i in range(n):
            source_name = sources[i].value
            self.summary.sources[source_name] = self.summary.sources.get(source_name, 0) + 1
            row = int(found.family[i])
            if row < 0:
                continue
            family = self.true_families[row]
            kit_markers = set(self.kit_markers[int(found.kit[i])])
            mutated = [self.table.markers[m] for m in found.mutated_markers[i]]
            truth.append(
                {"found_case": case_rows[i]["reference"], "found_profile": profile_ids[i],
                 "family_case": family["family_case"], "family_profiles": family["profiles"],
                 "mutated_markers": mutated,
                 "mutated_typed_markers": [m for m in mutated if m in kit_markers]}
            )  # fmt: skip
            self.summary.true_children += 1
            self.summary.mutated_children += bool(mutated)
        self.summary.children += n
        return truth


def _sex(fam: Families, i: int, who: str) -> Sex:
    if who == "father" or (who == "relative" and fam.relative_kind[i] == RelativeKind.GRANDPARENT):
        return Sex.MALE  # the typed grandparent is the father's father
    if who == "mother":
        return Sex.FEMALE
    return Sex.MALE if fam.relative_male[i] else Sex.FEMALE


def populate(
    engine: Engine,
    config: Config,
    *,
    table: FrequencyTable | None = None,
    seed: int | None = None,
    truth_path: Path | Callable[[str], Path],
    progress: Progress | None = None,
    chunk: int = 5_000,
) -> Summary:
    """Draw a population and write it into the database; write the truth to `truth_path` (or `truth_path(run)`)."""
    started = time.perf_counter()
    table = table or FrequencyTable.default()
    run = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTWXYZ23456789") for _ in range(4))
    truth_path = truth_path(run) if callable(truth_path) else truth_path
    summary = Summary(run=run, seed=seed, truth_path=str(truth_path))
    gen = Generator(table, config, seed=seed, chunk=chunk)
    rng = np.random.default_rng(None if seed is None else seed + 1)
    writer = _Writer(engine, table, gen, summary)
    with engine.begin() as conn:
        writer.lab_id = _synthetic_lab(conn)
    for fam in gen.families():
        with engine.begin() as conn:
            writer.families(conn, fam, rng)
        if progress:
            progress("families", len(fam))
    truth: list[dict[str, Any]] = []
    for found in gen.found():
        with engine.begin() as conn:
            truth.extend(writer.found(conn, found, rng))
        if progress:
            progress("children", len(found))
    writer.rows["cases"] = summary.families + summary.children
    writer.rows["found_children"] = summary.children
    summary.rows = dict(writer.rows)
    summary.seconds = time.perf_counter() - started
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "note": "synthetic population written by `reunite synth`; the truth is kept here, never in the database",
        "run": run, "seed": seed, "frequency_table": table.source, "config": asdict(config),
        "families": summary.families, "children": summary.children, "true_children": truth,
        "summary": {k: v for k, v in asdict(summary).items() if k not in ("truth_path",)},
    }  # fmt: skip
    truth_path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return summary


def _unindexed_references(referred: set[str]) -> list[tuple[str, str]]:
    """Return (table, column) of every foreign key into `referred` that no index starts with.

    Deleting many referred rows makes the database look up each one's referrers (ON DELETE CASCADE / SET NULL);
    without an index that is a full scan per deleted row, quadratic on a big synthetic population.
    """
    found = []
    for table in Base.metadata.sorted_tables:
        leading = {idx.columns[0].name for idx in table.indexes if idx.columns}
        leading |= {c.name for c in table.primary_key.columns[:1]}
        leading |= {
            list(u.columns)[0].name
            for u in table.constraints
            if isinstance(u, sa.UniqueConstraint) and u.columns
        }
        for fk in table.foreign_keys:
            if fk.column.table.name in referred and fk.parent.name not in leading:
                found.append((table.name, fk.parent.name))
    return sorted(set(found))


def clear(engine: Engine, *, truth_dir: Path | None = None) -> dict[str, int]:
    """Delete every synthetic case (reference "SYN-...") and all that hangs off it; return the rows deleted."""
    cases = CASES
    samples = SAMPLES
    counts: dict[str, int] = {}
    temporary = [
        (f"tmp_synth_clear_{t}_{c}", t, c)
        for t, c in _unindexed_references({"cases", "persons", "samples", "profiles", "labs"})
    ]
    with engine.begin() as conn:
        for index, on, column in temporary:  # dropped again below, in the same transaction
            conn.execute(sa.text(f'CREATE INDEX "{index}" ON "{on}" ("{column}")'))
        synthetic_ids = sa.select(cases.c.id).where(cases.c.reference.like(f"{PREFIX}%"))
        synthetic_samples = sa.select(samples.c.id).where(samples.c.case_id.in_(synthetic_ids))
        profiles = PROFILES
        counts["profiles"] = conn.execute(
            sa.delete(profiles).where(profiles.c.sample_id.in_(synthetic_samples))
        ).rowcount
        for name, t in (("samples", SAMPLES), ("consents", CONSENTS), ("found_children", FOUND),
                        ("persons", PERSONS)):  # fmt: skip
            counts[name] = conn.execute(sa.delete(t).where(t.c.case_id.in_(synthetic_ids))).rowcount
        counts["cases"] = conn.execute(sa.delete(cases).where(cases.c.id.in_(synthetic_ids))).rowcount
        labs = LABS
        lab = conn.execute(
            sa.select(labs.c.id).where(labs.c.name == LAB_NAME, labs.c.city == LAB_CITY)
        ).scalar()
        if lab is not None:
            in_use = (
                conn.execute(
                    sa.select(sa.func.count()).select_from(profiles).where(profiles.c.lab_id == lab)
                ).scalar_one()
                + conn.execute(
                    sa.select(sa.func.count()).select_from(samples).where(samples.c.lab_id == lab)
                ).scalar_one()
            )
            if not in_use:
                conn.execute(sa.delete(labs).where(labs.c.id == lab))
        for index, _on, _column in temporary:
            conn.execute(sa.text(f'DROP INDEX "{index}"'))
    if truth_dir is not None and truth_dir.is_dir():
        removed = 0
        for path in truth_dir.glob("truth-*.json"):
            path.unlink()
            removed += 1
        counts["truth_files"] = removed
    return counts


def synthetic_counts(engine: Engine) -> dict[str, int]:
    """Return how many synthetic families and found children the database holds."""
    cases = CASES
    found = FOUND
    with engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(cases).where(cases.c.reference.like(f"{PREFIX}%"))
        ).scalar_one()
        children = conn.execute(
            sa.select(sa.func.count())
            .select_from(cases.join(found, found.c.case_id == cases.c.id))
            .where(cases.c.reference.like(f"{PREFIX}%"))
        ).scalar_one()
    return {"families": int(total) - int(children), "children": int(children)}


__all__ = ["PREFIX", "Summary", "clear", "default_truth_path", "populate", "synthetic_counts"]
