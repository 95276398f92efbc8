"""`reunite retention [--dry-run]`: apply the retention periods once (the worker does it daily), and say what changed."""

from __future__ import annotations

import click

from intake.cases.retention import delete_files, run_retention
from intake.cli.support import runtime_from_env
from intake.platform.db import transaction


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what would be erased or dropped; change nothing.")
def retention(dry_run: bool) -> None:
    """Erase messages, notifications, closed cases' details and photos older than the REUNITE_RETAIN_* periods."""
    rt = runtime_from_env(demo_labs=False)
    with transaction(rt.session_factory) as session:
        report = run_retention(session, rt.settings, dry_run=dry_run)
    files = 0 if dry_run else delete_files(rt.settings.data_dir, report)
    verb = "would change" if dry_run else "changed"
    for rule, count in report.counts().items():
        click.echo(f"{rule}: {count} {verb}")
    if not dry_run:
        click.echo(f"photo files deleted: {files}")
