"""A copied database or data folder reveals no genotype; rotation re-encrypts while readers keep working.

Profiles go in through the lab API and out through the matcher (tests/matching_service's world), on SQLite and
PostgreSQL; the raw bytes are read below SQLAlchemy's types: the SQLite file itself, PostgreSQL's column bytes.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError

from intake.models import Candidate, DnaProfile, MatchFlag
from intake.platform import crypto
from intake.platform.photos import photo_key_usage, photo_path, read_photo, store_photo
from intake.platform.reencrypt import encrypted_columns, key_usage, reencrypt
from matching.service import Worker
from matching.service.entries import entries
from tests.bot.test_photos import photo_with_gps
from tests.labapi.test_ystr_api import YFILER_PLUS
from tests.support.factories import bearer

A, B = crypto.new_key(), crypto.new_key()


def fragments(genotypes: dict[str, list[str]]) -> list[bytes]:
    """Return byte strings that would show a stored genotype: each marker with its alleles, in JSON."""
    out = []
    for marker, alleles in genotypes.items():
        if marker == "Amelogenin":
            continue
        for sep in (",", ", "):
            out.append(json.dumps(alleles, separators=(sep, ":")).encode())
        out.append(f'"{marker}":'.encode())
    return out


def raw_database_bytes(engine: sa.Engine, tmp_path: Path) -> bytes:
    """Return what a copy of the database shows: the SQLite file (and its WAL), or every PostgreSQL row as text
    plus the raw bytes of the encrypted columns."""
    if engine.dialect.name == "sqlite":
        engine.dispose()  # checkpoint the WAL into the file
        return b"".join(p.read_bytes() for p in tmp_path.glob("reunite.sqlite3*"))
    chunks = []
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            chunks += [str(r).encode() for r in conn.execute(sa.text(f'SELECT t::text FROM "{table}" t'))]
        for col in encrypted_columns():
            chunks += [
                bytes(v) for v in conn.execute(sa.text(f"SELECT {col.column} FROM {col.table}")).scalars()
            ]
    return b"\n".join(chunks)


def stored(world) -> tuple[list[DnaProfile], list[Candidate]]:
    with world.factory() as s:
        return list(s.scalars(sa.select(DnaProfile))), list(s.scalars(sa.select(Candidate)))


def test_the_database_holds_no_genotype_and_upload_to_match_still_works(world, engine, tmp_path):
    family, child, _mother, _father = world.typed_trio()
    for code in (family.codes["father"], child["child"]):  # Y haplotypes too, so the lineage is stored
        answer = world.client.put(f"/api/v1/samples/{code}/y-str", headers=bearer(world.secret),
                                  json={"kit": "Yfiler Plus", "haplotype": YFILER_PLUS})  # fmt: skip
        assert answer.status_code == 201, answer.get_json()
    Worker(world.factory).run_pending()
    profiles, candidates = stored(world)
    assert len(profiles) == 3 and len(candidates) == 1
    evidence = candidates[0].evidence  # decrypted on read, as the console and `reunite candidates` see it
    assert evidence and all("genotypes" in row for row in evidence)
    with engine.connect() as conn:
        for col in encrypted_columns():
            values = conn.execute(sa.text(f"SELECT {col.column} FROM {col.table}")).scalars().all()
            assert all(crypto.is_sealed(bytes(v)) for v in values), col.name
            assert values or col.name == "match_flags.detail"  # this search raised no flag
    raw = raw_database_bytes(engine, tmp_path)
    needles = [f for p in profiles for f in fragments(p.genotypes)] + [b'"genotypes"', b'"log10_lr"']
    needles += [b'"DYS19"', b'"DYS385"', b'"probability"']  # the Y haplotypes and the lineage evidence
    assert len(needles) > 50 and [n for n in needles if n in raw] == []
    assert profiles[0].id.encode() in raw  # what is not secret is there: the raw read does see the rows


def test_a_photo_on_disk_is_no_image_and_no_exif_and_reads_back_decrypted(tmp_path):
    kept = store_photo(tmp_path, photo_with_gps())
    raw = photo_path(tmp_path, kept.id).read_bytes()
    assert not raw.startswith(b"\xff\xd8") and b"JFIF" not in raw and b"Exif" not in raw
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(raw))
    data = read_photo(tmp_path, kept.id)
    assert data is not None and Image.open(io.BytesIO(data)).format == "JPEG"


def test_keys_rotate_without_downtime_then_the_old_key_can_go(world, tmp_path):
    crypto.install(crypto.Keyring.parse(A))
    world.typed_trio()
    Worker(world.factory).run_pending()
    photo = store_photo(tmp_path, photo_with_gps())
    a_id, b_id = crypto.Keyring.parse(A).newest_id, crypto.Keyring.parse(B).newest_id
    before = {p.id: p.genotypes for p in stored(world)[0]}

    # 1. Every process gets "B,A" and restarts: B seals what is written from now on, A still opens the rest.
    both = crypto.Keyring.parse(f"{B},{A}")
    crypto.install(both)
    with world.factory() as s:
        assert {e.profile_id for e in entries(s)} == set(before)  # the matcher's index reads every profile
    world.upload(world.family(world_role("MOTHER")).codes["mother"], world.person("female"))
    assert key_usage(world.factory)["profiles.genotypes"] == {a_id: 3, b_id: 1}

    # 2. Re-encrypt, while the service could go on writing (each batch its own transaction).
    report = reencrypt(world.factory, both, tmp_path, batch=2)
    assert report.sealed["profiles.genotypes"] == 3 and report.current["profiles.genotypes"] == 1
    assert report.sealed["match_candidates.evidence"] == 1 and report.sealed["photos"] == 1
    usage = key_usage(world.factory)
    assert all(set(counts) <= {b_id} for counts in usage.values()) and photo_key_usage(tmp_path) == {b_id: 1}

    # 3. Drop A: everything reads with B alone, as it was.
    crypto.install(crypto.Keyring.parse(B))
    profiles, candidates = stored(world)
    assert {p.id: p.genotypes for p in profiles if p.id in before} == before
    assert candidates[0].evidence and read_photo(tmp_path, photo.id) is not None

    # A process still on the old key alone fails loudly, naming the key it lacks; it never reads garbage.
    crypto.install(crypto.Keyring.parse(A))
    with pytest.raises(crypto.DataKeyError, match=f"data key {b_id}, which is not configured"):
        stored(world)
    with pytest.raises(crypto.DataKeyError, match=b_id):
        read_photo(tmp_path, photo.id)


def world_role(name: str):
    from intake.models import Role

    return Role[name]


def test_a_row_changed_during_reencryption_is_left_as_the_service_wrote_it(
    world, engine, tmp_path, monkeypatch
):
    if engine.dialect.name == "sqlite":
        pytest.skip("on SQLite a batch holds the write lock (BEGIN IMMEDIATE): no write can come in between")
    crypto.install(crypto.Keyring.parse(A))
    world.typed_trio()
    both = crypto.Keyring.parse(f"{B},{A}")
    crypto.install(both)
    with world.factory() as s:
        target = s.scalars(sa.select(DnaProfile).order_by(DnaProfile.id)).first()
        assert target is not None
        target_id = target.id
    real_reseal = crypto.Keyring.reseal

    def reseal_while_the_service_writes(self, value, label):
        if label == "profiles.genotypes" and not hasattr(reseal_while_the_service_writes, "done"):
            reseal_while_the_service_writes.done = True  # type: ignore[attr-defined]
            with world.factory() as s:  # the service replaces the value between our read and our write
                s.execute(
                    sa.update(DnaProfile).where(DnaProfile.id == target_id).values(genotypes={"x": ["1"]})
                )
                s.commit()
        return real_reseal(self, value, label)

    monkeypatch.setattr(crypto.Keyring, "reseal", reseal_while_the_service_writes)
    report = reencrypt(world.factory, both, tmp_path)
    assert report.skipped["profiles.genotypes"] == 1 and report.sealed["profiles.genotypes"] == 2
    with world.factory() as s:
        assert s.get(DnaProfile, target_id).genotypes == {"x": ["1"]}  # not overwritten with the old value


def test_an_unreadable_flag_detail_is_an_error_not_an_empty_value(session):
    session.add(MatchFlag(kind="test", profile_ids="p1", case_ids=[], detail={"Amelogenin": ["X"]}))
    session.commit()
    session.execute(sa.update(MatchFlag).values(kind="test2"))
    session.commit()
    session.expire_all()
    crypto.install(crypto.Keyring.parse(B))
    with pytest.raises(crypto.DataKeyError, match="match_flags.detail"):
        session.scalars(sa.select(MatchFlag)).all()
