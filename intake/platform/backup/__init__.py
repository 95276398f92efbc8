"""Backups of the whole service in one archive: the database, taken consistently while the service runs, and the
data folder's files (photos and the rest), with a manifest that restore checks before it writes anything.

    create_backup(settings, target) -> BackupReport     (raises BackupError)
    restore_backup(settings, archive, force=False) -> RestoreReport

The archive is a gzipped tar whose first member is `manifest.json`: the format, when it was made, the schema
revision, the row count of every table and the size and sha256 of every other member. The database is
`database/reunite.sqlite3` (SQLite's online backup API: one consistent snapshot, writers go on meanwhile) or
`database/reunite.pgdump` (pg_dump's custom format, taken in the same snapshot as the counts). The data folder's
files are under `data/`. Key files (the console's `secret_key`, encryption keys: any name containing "key" or
"secret", or ending in .pem) are never put in the archive: the manifest lists them under `keys_not_included`, because a key
kept beside the data it protects protects nothing. Caches (numba's) and the live database files are left out too.
"""

from intake.platform.backup.archive import (
    BackupReport,
    RestoreReport,
    create_backup,
    default_name,
    known_revisions,
    read_manifest,
    restore_backup,
)
from intake.platform.backup.databases import find_pg_tool
from intake.platform.backup.folder import BackupError, is_key_file

__all__ = [
    "BackupError",
    "BackupReport",
    "RestoreReport",
    "create_backup",
    "default_name",
    "find_pg_tool",
    "is_key_file",
    "known_revisions",
    "read_manifest",
    "restore_backup",
]
