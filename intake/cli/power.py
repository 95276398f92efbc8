"""`reunite power CASE`: a family case's search power today and with each untyped relative (which one next).

Prints, for the case's typed members, the chance that the true child would reach the candidate band and the
expected number of unrelated candidates among the children in the database today, then the same with each
relative added, best first (`intake.cases.power`). Reading it is audited, as a read of the case's profiles is;
the figures are cached per set of typed members, so a second run reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import click
from sqlalchemy.orm import Session, sessionmaker

from intake.cases.found_children import find_case
from intake.cases.power import Figure, case_power
from intake.cli.support import runtime_from_env
from intake.models import audit
from intake.platform.errors import ReuniteError
from matching.errors import KinshipError


def _row(figure: Figure, what: str) -> str:
    return f"{what:<24} {figure.true_rate:>10.2%} {figure.expected_unrelated:>14.3g}"


def make_power_command(get_session_factory: Callable[[], sessionmaker[Session]]) -> click.Command:
    """Return the `power` command, opening sessions from `get_session_factory()`."""

    @click.command("power")
    @click.argument("reference")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts.")
    def power(reference: str, as_json: bool) -> None:
        """Print a family case's search power today and with each untyped relative typed, best first."""
        with get_session_factory()() as session:
            try:
                case = find_case(session, reference)
                result = case_power(session, case)
            except (ReuniteError, KinshipError) as exc:
                raise click.ClickException(str(exc)) from exc
            if result is None:
                raise click.ClickException(
                    f"{case.reference} is a found child's case: its power is the families'"
                )
            audit(session, "officer:cli", "case.power_view", "case", case.id)
            session.commit()
        if as_json:
            click.echo(json.dumps({
                "case": case.reference, "typed": list(result.typed), "markers": result.markers,
                "simulations": result.simulations, "children": result.children,
                "scenarios": [{"added": f.role, "true_child_in_band": f.true_rate, "false_rate": f.false_rate,
                               "expected_unrelated": f.expected_unrelated} for f in (result.today, *result.additions)],
            }))  # fmt: skip
            return
        typed = ", ".join(r.replace("_", " ") for r in result.typed) or "nobody"
        click.echo(f"case {case.reference}: typed {typed}; {result.markers} markers, {result.simulations:,} "
                   f"simulations, {result.children:,} children in the database")  # fmt: skip
        click.echo(f"{'':<24} {'true child':>10} {'unrelated':>14}")
        click.echo(_row(result.today, "today"))
        for figure in result.additions:
            click.echo(_row(figure, "+ " + (figure.role or "").replace("_", " ")))
        if result.best is not None:
            click.echo(f"next: the {(result.best.role or '').replace('_', ' ')}")

    return power


power = make_power_command(lambda: runtime_from_env(demo_labs=False).session_factory)
