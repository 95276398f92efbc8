"""`reunite backup [PATH]` and `reunite restore PATH`: the whole service in one archive, and back (intake.platform.backup)."""

from __future__ import annotations

from pathlib import Path

import click

from intake.cli.support import settings_from_env
from intake.platform.backup import BackupError, create_backup, restore_backup


@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path), default=Path("."))
def backup(path: Path) -> None:
    """Write the database and the data folder to one archive at PATH (a file or a folder; default: here).

    Safe while the service runs. Key files are never archived: they are listed, keep them apart from backups.
    """
    settings = settings_from_env()
    try:
        report = create_backup(settings, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = report.manifest
    rows = sum(manifest["counts"].values())
    click.echo(
        f"backup written to {report.path}: {manifest['database']['backend']} database at schema"
        f" {manifest['schema_revision']} ({rows} rows), {manifest['photos']} photos,"
        f" {len(manifest['members'])} files in all"
    )
    if report.keys_not_included:
        click.echo(
            "warning: these key files are NOT in the backup: "
            + ", ".join(str(settings.data_dir / k) for k in report.keys_not_included)
            + ". Without them what they protect cannot be read: store copies apart from the backup.",
            err=True,
        )
    else:
        click.echo("The backup holds no key files (none in the data folder).")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database and data folder that already hold data.")
def restore(path: Path, force: bool) -> None:
    """Check the archive at PATH and restore it into DATABASE_URL and the data folder; stop the service first."""
    settings = settings_from_env()
    try:
        report = restore_backup(settings, path, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    migrated = (
        f", migrated from {report.revision_before} to {report.revision_after}"
        if report.revision_before != report.revision_after
        else ""
    )
    click.echo(
        f"restored the backup of {report.manifest['created_at']} into {settings.data_dir}"
        f" (schema {report.revision_before}{migrated}); every member matched its sha256"
    )
    if report.keys_missing:
        click.echo(
            "warning: the backup was made with key files it does not hold; copy them from where you keep them"
            f" into {settings.data_dir} before starting the service: " + ", ".join(report.keys_missing),
            err=True,
        )


backup_commands = (backup, restore)
