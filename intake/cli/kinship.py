"""`reunite kinship-lr`: kinship likelihood ratios for JSON Lines cases on stdin, one JSON line out per case.

A thin adapter over `matching.cases`, so labs can check the engine against their own software.
"""

from __future__ import annotations

import sys

import click

from matching.cases import run_lines
from matching.errors import KinshipError
from matching.frequencies import FrequencyTable, MissingAllelePolicy


@click.command("kinship-lr")
@click.option(
    "--frequencies",
    "frequencies",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Allele-frequency CSV, long (marker,allele,frequency) or wide (Allele + one column per marker)."
    " Default: the shipped Chinese table.",
)
@click.option(
    "--n-individuals",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Sample size N of the table: an allele missing from it gets frequency 5/(2N).",
)
@click.option(
    "--min-allele-frequency",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=None,
    help="Frequency for an allele missing from the table (instead of 5/(2N)).",
)
@click.option(
    "--renormalise-missing/--no-renormalise-missing",
    default=True,
    show_default=True,
    help="Renormalise a locus after adding a missing allele.",
)
def kinship_lr(
    frequencies: str | None, n_individuals: int, min_allele_frequency: float | None, renormalise_missing: bool
) -> None:
    """Compute kinship LRs: JSON Lines cases on stdin, one JSON line per case on stdout (see docs/kinship.md)."""
    try:
        table = FrequencyTable.from_csv(frequencies) if frequencies else FrequencyTable.default()
        policy = MissingAllelePolicy(n_individuals, min_allele_frequency, renormalise_missing)
    except KinshipError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in run_lines(sys.stdin, table, policy):
        click.echo(line)
