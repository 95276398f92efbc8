"""The backup's data folder side: its constants and error, which files are archived, which are keys."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import URL, make_url

from intake.platform.settings import NUMBA_CACHE_FOLDER, Settings

FORMAT = "reunite-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/reunite.sqlite3"
PGDUMP_MEMBER = "database/reunite.pgdump"
DATA_PREFIX = "data/"
KEY_WARNING = (
    "This backup holds no key files. Data encrypted with a key cannot be read without it: keep every file listed"
    " under keys_not_included stored apart from the backups (never in the same place), and copy it back into"
    " the data folder after a restore."
)
CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup that cannot be made or an archive that cannot be restored; the message says why and what to do."""


def is_key_file(relative: str) -> bool:
    """Tell whether a data-folder path names a key (kept out of backups): "key" or "secret" in any part, or .pem.

    Deliberately broad: a secret left out of a backup is named in its manifest and the warning, while a key put
    in beside the data it protects would protect nothing.
    """
    parts = PurePosixPath(relative.lower()).parts
    return any("key" in part or "secret" in part for part in parts) or relative.lower().endswith(".pem")


def sqlite_path(url: URL) -> Path | None:
    """Return the file of a SQLite database URL, or None for PostgreSQL or an in-memory database."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve()


def data_files(settings: Settings, exclude: Path | None) -> tuple[list[tuple[str, Path]], list[str]]:
    """Return the data folder's files to archive (name, path) and the key files found, both sorted."""
    database = sqlite_path(make_url(settings.database_url))
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
        dirs[:] = sorted(
            d
            for d in dirs
            if not (here == root and d == NUMBA_CACHE_FOLDER) and not d.startswith(".restore-")
        )
        for name in sorted(names):
            path = here / name
            relative = path.relative_to(root).as_posix()
            if (
                path.resolve() in live
                or (exclude is not None and path.resolve() == exclude)
                or name.startswith(".incoming-")  # a photo being written
                or (name.startswith("reunite-backup-") and name.endswith(".tar.gz"))  # earlier backups
                or name.endswith(".partial")
                or not path.is_file()
                or path.is_symlink()
            ):
                continue
            if is_key_file(relative):
                keys.append(relative)
            else:
                files.append((relative, path))
    return files, sorted(keys)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no reason given"


def clear_for_restore(data_dir: Path, database: Path | None) -> None:
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
