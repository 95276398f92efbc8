"""`reunite synth`: a synthetic population in the database for benchmarks and demos (see `intake.synthetic`).

    reunite synth --families 100000 --children 20000 [--seed 7] [--truth PATH]
    reunite synth --clear

Every synthetic case reference starts with "SYN-"; the truth (which found child is whose) goes to a JSON file
under the data folder (or --truth), never into the database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.engine import Engine

from intake.cli.support import runtime_from_env
from intake.synthetic import Summary, clear, default_truth_path, populate
from matching.synthetic import DEFAULT_MUTATION_RATE, Config


def _summary_table(summary: Summary) -> Table:
    table = Table(
        title=f"synthetic population {summary.run} written in {summary.seconds:.1f} s", show_header=False
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    rate = summary.families / summary.seconds if summary.seconds else 0.0
    lines = [
        ("families (SYN-MC-...)", f"{summary.families:,}"),
        ("  both parents typed", f"{summary.trios:,}"),
        ("  one parent typed", f"{summary.one_parent:,}"),
        *((f"  typed {kind.replace('_', ' ')}", f"{n:,}") for kind, n in sorted(summary.relatives.items())),
        ("found children (SYN-FC-...)", f"{summary.children:,}"),
        *((f"  {source.replace('_', ' ')}", f"{n:,}") for source, n in sorted(summary.sources.items())),
        ("  true children of a family", f"{summary.true_children:,}"),
        ("  of whom with a mutation", f"{summary.mutated_children:,}"),
        *((f"profiles on {kit}", f"{n:,}") for kit, n in sorted(summary.kits.items())),
        *((f"rows: {name}", f"{n:,}") for name, n in sorted(summary.rows.items())),
        ("families per second", f"{rate:,.0f}"),
        ("seed", str(summary.seed) if summary.seed is not None else "random"),
        ("truth file", summary.truth_path),
    ]
    for name, value in lines:
        table.add_row(name, value)
    return table


def make_synth_command(get_engine_and_data_dir: Callable[[], tuple[Engine, Path]]) -> click.Command:
    """Return the `synth` command, opening the database with `get_engine_and_data_dir()`."""

    @click.command("synth")
    @click.option(
        "--families", type=click.IntRange(0, 10_000_000), default=0, help="Families of missing children."
    )
    @click.option("--children", type=click.IntRange(0, 10_000_000), default=0, help="Found children.")
    @click.option("--true-share", type=click.FloatRange(0, 1), default=0.5, show_default=True,
                  help="Share of the found children who are the missing child of some family.")  # fmt: skip
    @click.option("--mutation-rate", type=click.FloatRange(0, 0.1), default=DEFAULT_MUTATION_RATE,
                  show_default=True, help="Per marker and transmission (single-step mutations).")  # fmt: skip
    @click.option(
        "--seed", type=int, default=None, help="Seed the draw (the same seed draws the same genotypes)."
    )
    @click.option("--truth", "truth", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Where to write the truth JSON (default: DATA_DIR/synth/truth-RUN.json).")  # fmt: skip
    @click.option(
        "--clear", "clear_", is_flag=True, help="Remove every synthetic case (SYN-...) and its rows."
    )
    def synth(
        families: int, children: int, true_share: float, mutation_rate: float, seed: int | None,
        truth: Path | None, clear_: bool,
    ) -> None:  # fmt: skip
        """Write a synthetic population (families, found children, their profiles) for benchmarks and demos."""
        console = Console()
        engine, data_dir = get_engine_and_data_dir()
        if clear_:
            counts = clear(engine, truth_dir=data_dir / "synth")
            console.print(
                "removed synthetic data: "
                + ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in counts.items())
            )
            if families or children:
                console.print("(--clear given: nothing new written; run again without --clear to write)")
            return
        if not families and not children:
            raise click.UsageError("give --families N and/or --children M (or --clear)")
        config = Config(
            families=families, children=children, true_share=true_share, mutation_rate=mutation_rate
        )
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), console=console, transient=False,
        ) as bar:  # fmt: skip
            tasks = {
                "families": bar.add_task("families", total=families),
                "children": bar.add_task("found children", total=children),
            }

            def advance(what: str, n: int) -> None:
                bar.advance(tasks[what], n)

            summary = populate(
                engine,
                config,
                seed=seed,
                truth_path=truth or (lambda run: default_truth_path(data_dir, run)),
                progress=advance,
            )
        console.print(_summary_table(summary))

    return synth


def _engine_and_data_dir() -> tuple[Engine, Path]:
    rt = runtime_from_env(demo_labs=False)
    return rt.engine, rt.settings.data_dir


synth = make_synth_command(_engine_and_data_dir)
