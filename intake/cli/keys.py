"""`reunite keys`: make a data key, see which keys the stored data needs, re-encrypt it with the newest key."""

from __future__ import annotations

from collections import Counter

import click

from intake.cli.support import runtime_from_env
from intake.platform import crypto
from intake.platform.photos import photo_key_usage
from intake.platform.reencrypt import BATCH, PLAINTEXT, key_usage, reencrypt


@click.group()
def keys() -> None:
    """Encryption at rest of genotypes and photos: REUNITE_DATA_KEYS (docs/reliability.md)."""


@keys.command("new")
def new() -> None:
    """Print a fresh random data key (to put first in REUNITE_DATA_KEYS); nothing is stored."""
    click.echo(crypto.new_key())


def _usage_lines(usage: dict[str, Counter[str]], configured: list[str]) -> list[str]:
    lines = []
    for name, counts in usage.items():
        parts = [
            f"{n:,} {'NOT ENCRYPTED' if kid == PLAINTEXT else f'key {kid}'}"
            + ("" if kid == PLAINTEXT or kid in configured else " (NOT CONFIGURED)")
            for kid, n in sorted(counts.items())
        ]
        lines.append(f"  {name}: {', '.join(parts) if parts else 'empty'}")
    return lines


@keys.command("status")
def status() -> None:
    """Show the configured keys' ids and how many stored values and photos each key sealed."""
    rt = runtime_from_env(demo_labs=False)
    keyring = crypto.current()
    click.echo(f"configured keys (newest first, it encrypts): {', '.join(keyring.ids)}")
    usage = key_usage(rt.session_factory) | {"photos": photo_key_usage(rt.settings.data_dir)}
    for line in _usage_lines(usage, keyring.ids):
        click.echo(line)
    needed = {kid for counts in usage.values() for kid in counts}
    if needed <= {keyring.newest_id}:
        click.echo("Everything is encrypted with the newest key: any other key can be dropped.")
    else:
        click.echo("Run `reunite keys reencrypt` to encrypt everything with the newest key.")


@keys.command("reencrypt")
@click.option("--batch", default=BATCH, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows per transaction.")  # fmt: skip
def reencrypt_command(batch: int) -> None:
    """Encrypt every genotype, match evidence and photo with the newest key (also those stored unencrypted).

    Safe while the service runs: each batch is its own short transaction and a row changed meanwhile is left
    as the service wrote it. Run it after every process has the new key first in REUNITE_DATA_KEYS.
    """
    rt = runtime_from_env(demo_labs=False)
    keyring = crypto.current()
    try:
        report = reencrypt(rt.session_factory, keyring, rt.settings.data_dir, batch)
    except crypto.DataKeyError as exc:
        raise click.ClickException(f"cannot re-encrypt: {exc}") from None
    for name in sorted(set(report.sealed) | set(report.current) | set(report.skipped)):
        click.echo(
            f"{name}: {report.sealed[name]:,} encrypted with key {keyring.newest_id},"
            f" {report.current[name]:,} already were, {report.skipped[name]:,} changed meanwhile (skipped)"
        )
    left = {kid for counts in key_usage(rt.session_factory).values() for kid in counts} | set(
        photo_key_usage(rt.settings.data_dir)
    )
    if left <= {keyring.newest_id}:
        click.echo(f"Everything is encrypted with key {keyring.newest_id}: older keys can now be dropped.")
    else:
        raise click.ClickException(
            f"values remain under {', '.join(sorted(left - {keyring.newest_id}))}: is every process using the"
            " new key first? Run `reunite keys reencrypt` again"
        )
