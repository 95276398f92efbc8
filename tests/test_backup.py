"""`reunite backup` / `reunite restore`: data made through the real paths (an SMS report and booking, a lab's profile,
a Telegram photo) survives a round trip on SQLite and PostgreSQL; a backup taken while a writer runs restores to a
consistent state; a damaged, tampered or newer archive is refused before anything is written."""

from __future__ import annotations

import dataclasses
import gzip
import io
import itertools
import json
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.telegram.webhook import CHANNEL_KEY, SECRET_HEADER
from intake.labs.keys import issue_key
from intake.models import Attachment, Lab, Sample
from intake.platform import schema
from intake.platform.backup import BackupError, create_backup, find_pg_tool, known_revisions, restore_backup
from intake.platform.settings import Settings
from intake.runtime import Runtime
from intake.web import create_app
from tests.bot.test_photos import photo_with_gps
from tests.dialogue import transcripts as t
from tests.support.databases import create_database, drop_database, postgres_unavailable_reason
from tests.support.factories import HUAXIA_PLATINUM, bearer, genotypes
from tests.support.fake_telegram import FakeTelegram
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL, Phone
from tests.support.webapp import replace_settings

REUNITE = [sys.executable, "-c", "from intake.cli import main; main()"]
WEBHOOK_SECRET = "backup-test-webhook-secret-0123"
BOOK_IN_GUANGZHOU = ["1", "广州", "1", "1", "1"]


def _settings(data_dir: Path, database_url: str | None = None) -> Settings:
    env = {"REUNITE_DATA_DIR": str(data_dir), "REUNITE_DATA_KEYS": os.environ["REUNITE_DATA_KEYS"],
           "REUNITE_REPLY_MODE": "inline"}  # make_data reads each answer at once; the spool has tests/test_spool.py  # fmt: skip
    if database_url:
        env["DATABASE_URL"] = database_url
    base = Settings.from_env(env, load_dotenv_file=False)
    return replace_settings(base, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL)


@dataclasses.dataclass
class Service:
    """The web service on a data folder, as `reunite serve` builds it, with a fake Telegram behind its webhook."""

    rt: Runtime
    tg: FakeTelegram

    def __post_init__(self) -> None:
        telegram = dataclasses.replace(
            self.rt.settings.telegram,
            token=self.tg.token,
            base_url=self.tg.base_url,
            webhook_secret=WEBHOOK_SECRET,
        )
        self.rt.settings = dataclasses.replace(self.rt.settings, telegram=telegram)
        self.app = create_app(rt=self.rt)
        self.app.testing = True

    def close(self) -> None:
        channel = self.app.extensions.get(CHANNEL_KEY)
        if channel is not None:
            channel.api.close()
        self.rt.engine.dispose()


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def _start(settings: Settings, tg: FakeTelegram) -> Service:
    return Service(Runtime.start(settings, demo_labs=True), tg)


def make_data(service: Service) -> str:
    """Report and book by SMS, type the sample through the lab API, send a photo by Telegram; return the photo id."""
    client = service.app.test_client()
    phone = Phone(client)
    for text, _expected in t.REPORT_ZH:
        phone.text(text)
    replies = [phone.text(text) for text in BOOK_IN_GUANGZHOU]
    assert "预约成功" in "".join(replies[-1]), replies[-1]
    with service.rt.session_factory() as s:
        code = s.scalars(sa.select(Sample.code)).one()
        lab_id = s.scalars(sa.select(Lab.id).where(Lab.city == "广州")).first()
        assert lab_id is not None
        _key, secret = issue_key(s, lab_id, actor="test", name="广州 key")
        s.commit()
    events = client.post(f"/api/v1/samples/{code}/events", json={"type": "collected"}, headers=bearer(secret))
    assert events.status_code == 201, events.get_data(as_text=True)
    body = {"kit": "Huaxia Platinum", "genotypes": genotypes(HUAXIA_PLATINUM, 7)}
    profile = client.put(f"/api/v1/samples/{code}/profile", json=body, headers=bearer(secret))
    assert profile.status_code == 201, profile.get_data(as_text=True)
    update = service.tg.message_update(8, photo=photo_with_gps(), language_code="en")
    answer = client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: WEBHOOK_SECRET})
    assert answer.status_code == 200
    with service.rt.session_factory() as s:
        photo_id = s.scalars(sa.select(Attachment.photo_id).where(Attachment.photo_id.is_not(None))).one()
    assert photo_id is not None
    return photo_id


def everything(settings: Settings) -> dict[str, Any]:
    """Return every row of every table (sorted) and every data-folder file but keys and caches, to compare."""
    engine = sa.create_engine(settings.database_url)
    rows: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in sorted(sa.inspect(conn).get_table_names()):
            result = conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            rows[table] = sorted(repr(tuple(row)) for row in result)
    engine.dispose()
    root = settings.data_dir
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
        and "numba-cache" not in p.parts
        and "key" not in p.relative_to(root).as_posix()
        and not p.name.startswith("reunite.sqlite3")
    }
    return {"rows": rows, "files": files}


def test_sqlite_round_trip_restores_every_row_and_photo_and_lists_the_key_apart(tmp_path, tg):
    source = _settings(tmp_path / "a")
    service = _start(source, tg)
    photo_id = make_data(service)
    (source.data_dir / "secret_key").write_text("console-cookie-key")  # as the console makes it on first run
    (source.data_dir / "keys").mkdir()
    (source.data_dir / "keys" / "data.bin").write_bytes(
        b"an encryption key"
    )  # as encryption at rest may keep one
    before = everything(source)
    assert f"photos/{photo_id}.enc" in before["files"] and before["rows"]["profiles"]

    report = create_backup(source, tmp_path)
    manifest = report.manifest
    assert report.path.parent == tmp_path and report.path.name.startswith("reunite-backup-")
    assert manifest["keys_included"] is False and manifest["keys_not_included"] == [
        "keys/data.bin",
        "secret_key",
    ]
    assert manifest["schema_revision"] == known_revisions()[1]
    assert manifest["counts"]["messages"] == len(before["rows"]["messages"]) > 0
    assert manifest["photos"] == 1
    with tarfile.open(report.path) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json" and "database/reunite.sqlite3" in names
    assert f"data/photos/{photo_id}.enc" in names and not any("key" in n for n in names)

    target = _settings(tmp_path / "b")
    restored = restore_backup(target, report.path)
    assert restored.revision_before == restored.revision_after == manifest["schema_revision"]
    assert restored.keys_missing == [
        "keys/data.bin",
        "secret_key",
    ]  # the restore says which keys to bring back
    assert everything(target) == before
    restored_photo = target.data_dir / "photos" / f"{photo_id}.enc"
    assert restored_photo.stat().st_mode & 0o777 == 0o600  # as private as the service keeps its photos
    assert (target.data_dir / "photos").stat().st_mode & 0o777 == 0o700
    assert Path(make_url(target.database_url).database or "").stat().st_mode & 0o077 == 0
    service.close()


def test_a_postgresql_backup_without_pg_dump_is_refused_with_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr("intake.platform.backup.databases.find_pg_tool", lambda name: None)
    settings = _settings(tmp_path / "a", "postgresql+psycopg://reunite:secret@127.0.0.1:5432/reunite")
    with pytest.raises(BackupError) as refused:
        create_backup(settings, tmp_path)
    message = str(refused.value)
    assert "pg_dump is not installed" in message and "apt install postgresql-client" in message
    assert "pg_dump --format=custom --file=reunite.pgdump" in message and "docs/deploy.md" in message
    assert "secret" not in message and not list(tmp_path.glob("*.tar.gz"))


def test_a_backup_taken_while_a_writer_runs_restores_to_one_consistent_moment(tmp_path, tg):
    source = _settings(tmp_path / "a")
    service = _start(source, tg)
    make_data(service)
    stop, written = threading.Event(), itertools.count(1)
    progress = [0]

    def writer() -> None:  # another parent texting HELP again and again, each text its own transaction
        phone = Phone(service.app.test_client(), number="+8613700000001")
        while not stop.is_set():
            phone.text("帮助")
            progress[0] = next(written)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        while progress[0] < 3:
            threading.Event().wait(0.01)
        at_start = progress[0]
        report = create_backup(source, tmp_path / "busy.tar.gz")
        at_end = progress[0]
        while progress[0] < at_end + 3:  # still writing after the backup: it ran beside a live writer
            threading.Event().wait(0.01)
    finally:
        stop.set()
        thread.join(timeout=30)
    target = _settings(tmp_path / "b")
    restore_backup(target, report.path)  # checks the restored rows against the manifest's counts
    engine = sa.create_engine(target.database_url)
    with engine.connect() as conn:
        inbound = conn.execute(sa.text(
            "SELECT count(*) FROM messages JOIN contacts ON contacts.id = messages.contact_id"
            " WHERE contacts.address = '+8613700000001' AND messages.direction = 'in'"
        )).scalar_one()  # fmt: skip
    engine.dispose()
    assert (
        at_start <= inbound <= at_end + 1
    )  # the texts stored by the moment of the snapshot, none half-written
    service.close()


def _rewrite(archive: Path, out: Path, change: Any) -> Path:
    """Copy the archive member by member, letting `change(name, data)` alter each member's bytes."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for info in src:
            data = src.extractfile(info).read()  # type: ignore[union-attr]
            data = change(info.name, data)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


@pytest.fixture
def backup(tmp_path: Path, tg: FakeTelegram) -> Path:
    service = _start(_settings(tmp_path / "a"), tg)
    make_data(service)
    service.close()
    return create_backup(service.rt.settings, tmp_path / "good.tar.gz").path


def test_a_truncated_archive_is_refused_and_nothing_is_written(tmp_path, backup):
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(backup.read_bytes()[: backup.stat().st_size * 2 // 3])
    target = _settings(tmp_path / "b")
    with pytest.raises(BackupError, match="damaged or truncated"):
        restore_backup(target, truncated)
    assert not (tmp_path / "b" / "reunite.sqlite3").exists() and not (tmp_path / "b" / "photos").exists()


def test_a_changed_photo_or_database_is_refused_by_its_sha256(tmp_path, backup):
    def flip_photo(name: str, data: bytes) -> bytes:
        return data[:-10] + bytes(10) if name.startswith("data/photos/") else data

    tampered = _rewrite(backup, tmp_path / "tampered.tar.gz", flip_photo)
    with pytest.raises(BackupError, match=r"data/photos/.*does not match the manifest's sha256"):
        restore_backup(_settings(tmp_path / "b"), tampered)
    assert not (tmp_path / "b" / "reunite.sqlite3").exists()


def test_an_extra_member_or_a_manifest_from_a_newer_schema_is_refused(tmp_path, backup):
    def newer(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["schema_revision"] = "0099_future"
        return json.dumps(manifest).encode()

    with pytest.raises(BackupError, match="comes from a newer reunite .*'0099_future'"):
        restore_backup(_settings(tmp_path / "b"), _rewrite(backup, tmp_path / "newer.tar.gz", newer))

    extra = tmp_path / "extra.tar.gz"
    _rewrite(backup, extra, lambda name, data: data)
    with gzip.open(extra, "rb") as f:
        raw = f.read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = [(i, tar.extractfile(i).read()) for i in tar]  # type: ignore[union-attr]
    with tarfile.open(extra, "w:gz") as tar:
        for info, data in [*members, (tarfile.TarInfo("data/../../evil"), b"x")]:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(BackupError, match="outside its folders"):
        restore_backup(_settings(tmp_path / "c"), extra)
    assert not (tmp_path / "evil").exists()


def test_restore_refuses_a_folder_with_data_unless_forced(tmp_path, backup, tg):
    busy = _settings(tmp_path / "busy")
    other = _start(busy, tg)  # a service that already has its own database (demo labs)
    other.close()
    with pytest.raises(BackupError, match="already hold data.*--force"):
        restore_backup(busy, backup)
    report = restore_backup(busy, backup, force=True)
    engine = sa.create_engine(busy.database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM profiles")).scalar_one() == 1
    engine.dispose()
    assert report.manifest["counts"]["profiles"] == 1


def test_an_archive_of_an_older_schema_is_migrated_after_the_restore(tmp_path):
    old = _settings(tmp_path / "old")
    engine = sa.create_engine(old.database_url)
    old.data_dir.mkdir()
    schema.upgrade(engine, "0004_console")  # a database as an older release left it
    engine.dispose()
    archive = create_backup(old, tmp_path / "old.tar.gz")
    assert archive.manifest["schema_revision"] == "0004_console"
    report = restore_backup(_settings(tmp_path / "new"), archive.path)
    assert (report.revision_before, report.revision_after) == ("0004_console", known_revisions()[1])


def _cli(tmp_path: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "REUNITE_DATA_DIR": str(data), "HOME": str(tmp_path),
           "REUNITE_DATA_KEYS": os.environ["REUNITE_DATA_KEYS"]}  # fmt: skip
    return subprocess.run(
        [*REUNITE, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_the_commands_back_up_restore_and_refuse_in_one_line(tmp_path, backup):
    made = _cli(tmp_path, tmp_path / "a", "backup", str(tmp_path / "cli.tar.gz"))
    assert made.returncode == 0, made.stderr
    assert "backup written to" in made.stdout and "1 photos" in made.stdout
    done = _cli(tmp_path, tmp_path / "b", "restore", str(tmp_path / "cli.tar.gz"))
    assert done.returncode == 0, done.stderr
    assert "every member matched its sha256" in done.stdout
    again = _cli(tmp_path, tmp_path / "b", "restore", str(tmp_path / "cli.tar.gz"))
    assert again.returncode == 1 and "--force" in again.stderr
    (tmp_path / "short.tar.gz").write_bytes(backup.read_bytes()[:2000])
    broken = _cli(tmp_path, tmp_path / "c", "restore", str(tmp_path / "short.tar.gz"))
    assert broken.returncode == 1
    assert broken.stderr.startswith("Error: ") and "damaged or truncated" in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
def test_postgresql_round_trip_with_pg_dump_and_pg_restore(tmp_path, tg):
    reason = postgres_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    if find_pg_tool("pg_dump") is None or find_pg_tool("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed (neither on PATH nor under /usr/lib/postgresql/*/bin)")
    first, second = create_database("reunite_backup"), create_database("reunite_backup")
    try:
        source = _settings(tmp_path / "a", first)
        service = _start(source, tg)
        photo_id = make_data(service)
        service.close()
        before = everything(source)
        report = create_backup(source, tmp_path / "pg.tar.gz")
        assert report.manifest["database"] == {"backend": "postgresql", "member": "database/reunite.pgdump"}
        target = _settings(tmp_path / "b", second)
        restore_backup(target, report.path)
        after = everything(target)
        assert after == before and f"photos/{photo_id}.enc" in after["files"]
        with pytest.raises(BackupError, match="already hold data"):
            restore_backup(target, report.path)
    finally:
        drop_database(first)
        drop_database(second)


def test_backups_kept_in_the_data_folder_are_not_backed_up_again(tmp_path):
    settings = _settings(tmp_path / "a")
    Runtime.start(settings, demo_labs=False).engine.dispose()
    first = create_backup(settings, settings.data_dir)
    assert first.path.parent == settings.data_dir
    second = create_backup(settings, settings.data_dir / "second.tar.gz")
    with tarfile.open(second.path) as tar:
        assert tar.getnames() == ["manifest.json", "database/reunite.sqlite3"]
    with pytest.raises(BackupError, match="exists already"):
        create_backup(settings, second.path)
