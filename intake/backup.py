"""Backups of the whole service in one archive: the database, taken consistently while the service runs, and the
data folder's files (photos and the rest), with a manifest that restore checks before it writes anything.

    create_backup(settings, target) -> BackupReport     (raises BackupError)
    restore_backup(settings, archive, force=False) -> RestoreReport

The archive is a gzipped tar whose first member is `manifest.json`: the format, when it was made, the schema
revision, the row count of every table and the size and sha256 of every other member. The database is
`database/reunite.sqlite3` (SQLite's online backup API: one consistent snapshot, writers go on meanwhile) or
`database/reunite.pgdump` (pg_dump's custom format, taken in the same snapshot as the counts). The data folder's
files are under `data/`. Key files (the console's `secret_key`, encryption keys: any name containing "key", or
ending in .pem) are never put in the archive: the manifest lists them under `keys_not_included`, because a key
kept beside the data it protects protects nothing. Caches (numba's) and the live database files are left out too.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL, make_url

from intake import schema
from intake.config import Settings
from intake.db import make_engine
from intake.runtime import NUMBA_CACHE_FOLDER

FORMAT = "reunite-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/reunite.sqlite3"
PGDUMP_MEMBER = "database/reunite.pgdump"
DATA_PREFIX = "data/"
KEY_WARNING = (
    "This backup holds no key files. Data encrypted with a key cannot be read without it: keep each key listed"
    " under keys_not_included, and the console's secret_key, stored apart from the backups (never in the same"
    " place), and copy them back into the data folder after a restore."
)
CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup that cannot be made or an archive that cannot be restored; the message says why and what to do."""


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


# ---------------------------------------------------------------------------------------------- the data folder


def is_key_file(relative: str) -> bool:
    """Tell whether a data-folder path names a key (kept out of backups): "key" in any part, or a .pem file."""
    parts = PurePosixPath(relative.lower()).parts
    return any("key" in part for part in parts) or relative.lower().endswith(".pem")


def _sqlite_path(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve()


def _data_files(settings: Settings, exclude: Path | None) -> tuple[list[tuple[str, Path]], list[str]]:
    """Return the data folder's files to archive (name, path) and the key files found, both sorted."""
    database = _sqlite_path(make_url(settings.database_url))
    live = (
        {database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")}
        if database
        else set()
    )
    files: list[tuple[str, Path]] = []
    keys: list[str] = []
    root = settings.data_dir
    if not root.is_dir():
        return files, keys
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not (here == root and d == NUMBA_CACHE_FOLDER))
        for name in sorted(names):
            path = here / name
            relative = path.relative_to(root).as_posix()
            if (
                path.resolve() in live
                or (exclude is not None and path.resolve() == exclude)
                or name.startswith(".incoming-")
                or not path.is_file()
                or path.is_symlink()
            ):
                continue
            if is_key_file(relative):
                keys.append(relative)
            else:
                files.append((relative, path))
    return files, keys


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------------ backup


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """Copy the live SQLite database with the online backup API, in one step (a single consistent snapshot)."""
    if not source.exists():
        raise BackupError(f"there is no database at {source}: nothing to back up")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: every page in one step, under one read transaction (WAL: writers go on)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        (check,) = dst.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise BackupError(f"the database snapshot fails SQLite's integrity check: {check}")
    finally:
        dst.close()
        src.close()


def _sqlite_facts(path: Path) -> tuple[str, dict[str, int]]:
    """Return the schema revision and the row count of every table of a SQLite file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        revision = ""
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else ""
        counts = {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in tables
            if t != "alembic_version"
        }
    finally:
        conn.close()
    return revision, counts


def libpq_url(url: URL) -> tuple[str, dict[str, str]]:
    """Return a libpq connection URL for pg_dump/pg_restore (no password in it) and the environment with it."""
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where `ps` would show it
    return plain, env


def find_pg_tool(name: str) -> str | None:
    """Return the path of pg_dump or pg_restore: on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return str(candidates[-1]) if candidates else None


def pg_tool_missing(name: str) -> BackupError:
    """Return the error for a missing pg_dump/pg_restore, with what to run instead."""
    verb = "dump" if name == "pg_dump" else "restore"
    howto = (
        'pg_dump --format=custom --file=reunite.pgdump "postgresql://USER@HOST:5432/reunite"'
        if name == "pg_dump"
        else 'pg_restore --no-owner --exit-on-error --single-transaction --dbname="postgresql://USER@HOST:5432/reunite" reunite.pgdump'
    )
    return BackupError(
        f"{name} is not installed, so reunite cannot {verb} the PostgreSQL database. Install the PostgreSQL client"
        f" of your server's major version or newer (Debian/Ubuntu: apt install postgresql-client), or run: {howto}"
        " (see docs/deploy.md, Backups)"
    )


def _pg_snapshot(url: URL, target: Path) -> tuple[str, dict[str, int]]:
    """pg_dump the database (custom format) in the snapshot the counts are read in; return revision and counts."""
    tool = find_pg_tool("pg_dump")
    if tool is None:
        raise pg_tool_missing("pg_dump")
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            tables = (
                conn.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
                )
                .scalars()
                .all()
            )
            revision = ""
            if "alembic_version" in tables:
                revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() or ""
            counts = {
                t: int(conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one())
                for t in tables
                if t != "alembic_version"
            }
            dsn, env = libpq_url(url)
            done = subprocess.run(
                [tool, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", f"--dbname={dsn}"],
                env=env,
                capture_output=True,
                text=True,
            )
            conn.exec_driver_sql("COMMIT")
    finally:
        engine.dispose()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {_first_line(done.stderr)}")
    return revision, counts


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no reason given"


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
            source = _sqlite_path(url)
            if source is None:
                raise BackupError(
                    "DATABASE_URL names an in-memory SQLite database: there is nothing to back up"
                )
            db_member, db_file = SQLITE_MEMBER, Path(tmp) / "reunite.sqlite3"
            _sqlite_snapshot(source, db_file)
            revision, counts = _sqlite_facts(db_file)
        elif backend == "postgresql":
            db_member, db_file = PGDUMP_MEMBER, Path(tmp) / "reunite.pgdump"
            revision, counts = _pg_snapshot(url, db_file)
        else:
            raise BackupError(f"reunite backs up SQLite and PostgreSQL databases, not {backend}")
        # Files after the database: a photo is written before the row that names it, so every photo the snapshot
        # names is on disk by now (unless erased meanwhile, as it should be).
        files, keys = _data_files(settings, exclude=target)
        members = [(db_member, db_file), *((DATA_PREFIX + name, path) for name, path in files)]
        listed = []
        for name, path in members:
            listed.append({"name": name, "size": path.stat().st_size, "sha256": _sha256(path)})
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


# ----------------------------------------------------------------------------------------------------- restore


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


def _pg_has_tables(url: URL) -> bool:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            return bool(conn.exec_driver_sql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            ).scalar_one())  # fmt: skip
    finally:
        engine.dispose()


def _pg_restore(url: URL, dump: Path, clean: bool) -> None:
    tool = find_pg_tool("pg_restore")
    if tool is None:
        raise pg_tool_missing("pg_restore")
    dsn, env = libpq_url(url)
    args = [tool, "--no-owner", "--exit-on-error", "--single-transaction", f"--dbname={dsn}"]
    if clean:
        args += ["--clean", "--if-exists"]
    done = subprocess.run([*args, str(dump)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {_first_line(done.stderr)}")


def _counts_of(url: URL) -> tuple[str, dict[str, int]]:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            tables = sorted(inspector.get_table_names())
            revision = ""
            if "alembic_version" in tables:
                revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() or ""
            counts = {
                t: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                for t in tables
                if t != "alembic_version"
            }
    finally:
        engine.dispose()
    return revision, counts


def _clear_for_restore(data_dir: Path, database: Path | None) -> None:
    """Remove what a restore replaces: the database files and every data-folder file but keys and caches."""
    if database is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
    if not data_dir.is_dir():
        return
    for child in data_dir.iterdir():
        relative = child.name
        if relative == NUMBA_CACHE_FOLDER or is_key_file(relative) or relative.startswith(".restore-"):
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


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
    database = _sqlite_path(url)
    files, _keys = _data_files(settings, exclude=None)
    occupied = [str(data_dir)] if files else []
    if database is not None and database.exists():
        occupied.append(str(database))
    if backend == "postgresql" and _pg_has_tables(url):
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
            _pg_restore(url, staging / PGDUMP_MEMBER, clean=bool(occupied))
        _clear_for_restore(data_dir, database)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / SQLITE_MEMBER, database)
        extracted = staging / DATA_PREFIX.rstrip("/")
        if extracted.is_dir():
            for child in extracted.iterdir():
                os.replace(child, data_dir / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    revision_before, counts = _counts_of(url)
    if counts != manifest["counts"] or revision_before != manifest["schema_revision"]:
        raise BackupError(f"the restored database does not hold the rows the manifest of {archive} counts")
    engine = make_engine(settings.database_url)
    try:
        schema.upgrade(engine)
    except CommandError as exc:
        raise BackupError(f"the restored database cannot be migrated: {exc}") from None
    finally:
        engine.dispose()
    revision_after, _ = _counts_of(url)
    missing = [key for key in manifest["keys_not_included"] if not (data_dir / key).exists()]
    return RestoreReport(manifest, revision_before, revision_after, missing)
