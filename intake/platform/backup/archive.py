"""Writing one backup archive with its manifest, and checking and restoring one."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from intake.platform import schema
from intake.platform.backup.databases import (
    counts_of,
    pg_has_tables,
    pg_restore,
    pg_snapshot,
    sqlite_facts,
    sqlite_snapshot,
)
from intake.platform.backup.folder import (
    CHUNK,
    DATA_PREFIX,
    FORMAT,
    KEY_WARNING,
    MANIFEST,
    PGDUMP_MEMBER,
    SQLITE_MEMBER,
    VERSION,
    BackupError,
    clear_for_restore,
    data_files,
    sha256_of,
    sqlite_path,
)
from intake.platform.db import make_engine
from intake.platform.settings import Settings


@dataclass
class BackupReport:
    """What a backup holds: where it was written, its manifest, and the key files it left out."""

    path: Path
    manifest: dict[str, Any]

    @property
    def keys_not_included(self) -> list[str]:
        return list(self.manifest["keys_not_included"])


@dataclass
class RestoreReport:
    """What a restore did: the manifest it checked, the schema revision it migrated from and to, missing keys."""

    manifest: dict[str, Any]
    revision_before: str
    revision_after: str
    keys_missing: list[str] = field(default_factory=list)


def default_name(now: datetime) -> str:
    """Return the file name of a backup made at `now`: reunite-backup-20261129T171500Z.tar.gz."""
    return f"reunite-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def create_backup(settings: Settings, target: Path, *, now: datetime | None = None) -> BackupReport:
    """Write one archive of the database and the data folder to `target` (a file, or a folder to put it in)."""
    now = now or datetime.now(UTC)
    target = target.expanduser()
    if target.is_dir():
        target = target / default_name(now)
    if target.exists():
        raise BackupError(f"{target} exists already: choose another name (a backup never overwrites a file)")
    target = target.resolve()
    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    with tempfile.TemporaryDirectory(prefix="reunite-backup-") as tmp:
        if backend == "sqlite":
            source = sqlite_path(url)
            if source is None:
                raise BackupError(
                    "DATABASE_URL names an in-memory SQLite database: there is nothing to back up"
                )
            db_member, db_file = SQLITE_MEMBER, Path(tmp) / "reunite.sqlite3"
            sqlite_snapshot(source, db_file)
            revision, counts = sqlite_facts(db_file)
        elif backend == "postgresql":
            db_member, db_file = PGDUMP_MEMBER, Path(tmp) / "reunite.pgdump"
            revision, counts = pg_snapshot(url, db_file)
        else:
            raise BackupError(f"reunite backs up SQLite and PostgreSQL databases, not {backend}")
        # Files after the database: a photo is written before the row that names it, so every photo the snapshot
        # names is on disk by now (unless erased meanwhile, as it should be).
        files, keys = data_files(settings, exclude=target)
        members = [(db_member, db_file), *((DATA_PREFIX + name, path) for name, path in files)]
        listed = []
        for name, path in members:
            listed.append({"name": name, "size": path.stat().st_size, "sha256": sha256_of(path)})
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": now.isoformat(timespec="seconds"),
            "database": {"backend": backend, "member": db_member},
            "schema_revision": revision,
            "counts": counts,
            "photos": sum(1 for name, _ in files if name.startswith("photos/")),
            "keys_included": False,
            "keys_not_included": keys,
            "warning": KEY_WARNING,
            "members": listed,
        }
        partial = target.with_name(f".{target.name}.partial")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode(), now)
                for entry, (name, path) in zip(listed, members, strict=True):
                    # Hash what is written: a file changed since it was hashed must not be archived unnoticed.
                    with path.open("rb") as f:
                        data = f.read()
                    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                        raise BackupError(f"{name} changed while the backup was made: run the backup again")
                    _add_bytes(tar, name, data, now)
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupReport(target, manifest)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, now: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(now.timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def known_revisions() -> tuple[set[str], str]:
    """Return every schema revision this reunite's migrations know, and the current head."""
    script = ScriptDirectory.from_config(schema.alembic_config())
    return {rev.revision for rev in script.walk_revisions()}, str(script.get_current_head())


@contextlib.contextmanager
def _damaged(archive: Path) -> Iterator[None]:
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError) and exc.filename == str(archive):
            raise BackupError(f"there is no file {archive}") from None
        raise BackupError(
            f"{archive} is damaged or truncated ({type(exc).__name__}: {exc}): it cannot be restored;"
            " use another copy of the backup"
        ) from None


def read_manifest(archive: Path) -> dict[str, Any]:
    """Return the archive's manifest, checked to be one reunite can restore (raise BackupError otherwise)."""
    with _damaged(archive), tarfile.open(archive, "r:gz") as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile():
            raise BackupError(f"{archive} is not a reunite backup: it does not start with {MANIFEST}")
        extracted = tar.extractfile(first)
        assert extracted is not None
        try:
            manifest = json.loads(extracted.read())
        except ValueError:
            raise BackupError(f"{archive}: its manifest is not valid JSON; the archive is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a reunite backup (its manifest names no {FORMAT!r} format)")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"{archive} is a backup of format version {manifest.get('version')}, this reunite reads version"
            f" {VERSION}: restore it with the reunite release that made it"
        )
    revision = manifest.get("schema_revision")
    known, head = known_revisions()
    if not revision:
        raise BackupError(f"{archive} holds a database without a schema revision: it was not made by reunite")
    if revision not in known:
        raise BackupError(
            f"{archive} comes from a newer reunite (schema revision {revision!r}; this one knows up to {head!r}):"
            " install the release that made it (or a later one) and restore with that"
        )
    return manifest


def _check_member_name(name: str) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not name or name.startswith("/"):
        raise BackupError(f"the archive holds a member named {name!r} outside its folders: refused")


def _extract_verified(archive: Path, manifest: dict[str, Any], into: Path) -> None:
    """Extract every member listed in the manifest into `into`, checking size and sha256; refuse any other."""
    expected = {m["name"]: m for m in manifest["members"]}
    seen: set[str] = set()
    with _damaged(archive), tarfile.open(archive, "r:gz") as tar:
        for info in tar:
            if info.name == MANIFEST:
                continue
            _check_member_name(info.name)
            entry = expected.get(info.name)
            if entry is None or not info.isfile() or info.name in seen:
                raise BackupError(f"{archive} holds {info.name!r}, which its manifest does not list: refused")
            seen.add(info.name)
            source = tar.extractfile(info)
            assert source is not None
            path = into / info.name
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            digest, size = hashlib.sha256(), 0
            # Readable by the service's user only, like the photos and the database it came from.
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                raise BackupError(
                    f"{archive}: {info.name} does not match the manifest's sha256: the archive was changed or"
                    " damaged and is not restored"
                )
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(
            f"{archive} lacks {', '.join(missing[:3])} that its manifest lists: it is incomplete"
        )


def restore_backup(settings: Settings, archive: Path, *, force: bool = False) -> RestoreReport:
    """Check `archive` and restore it into the configured database and data folder, then migrate the schema."""
    archive = archive.expanduser().resolve()
    manifest = read_manifest(archive)
    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    if manifest["database"]["backend"] != backend:
        raise BackupError(
            f"{archive} holds a {manifest['database']['backend']} database but DATABASE_URL names {backend}:"
            " restore into the same kind of database"
        )
    data_dir = settings.data_dir
    database = sqlite_path(url)
    files, _keys = data_files(settings, exclude=None)
    occupied = [str(data_dir)] if files else []
    if database is not None and database.exists():
        occupied.append(str(database))
    if backend == "postgresql" and pg_has_tables(url):
        occupied.append(url.render_as_string(hide_password=True))
    if occupied and not force:
        raise BackupError(
            f"{' and '.join(occupied)} already hold data: restore refuses to overwrite it. Stop the service and"
            " run again with --force to replace it (key files in the data folder are kept)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    try:
        _extract_verified(archive, manifest, staging)  # everything checked before anything is replaced
        if backend == "postgresql":
            pg_restore(url, staging / PGDUMP_MEMBER, clean=bool(occupied))
        clear_for_restore(data_dir, database)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / SQLITE_MEMBER, database)
        extracted = staging / DATA_PREFIX.rstrip("/")
        if extracted.is_dir():
            for child in extracted.iterdir():
                os.replace(child, data_dir / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    revision_before, counts = counts_of(url)
    if counts != manifest["counts"] or revision_before != manifest["schema_revision"]:
        raise BackupError(f"the restored database does not hold the rows the manifest of {archive} counts")
    engine = make_engine(settings.database_url)
    try:
        schema.upgrade(engine)
    except CommandError as exc:
        raise BackupError(f"the restored database cannot be migrated: {exc}") from None
    finally:
        engine.dispose()
    revision_after, _ = counts_of(url)
    missing = [key for key in manifest["keys_not_included"] if not (data_dir / key).exists()]
    return RestoreReport(manifest, revision_before, revision_after, missing)
