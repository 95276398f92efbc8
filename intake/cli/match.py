"""The matching service's commands: the worker, a one-off run of the queue, and what it found.

reunite match-worker                 build the index, then search every queued profile as it comes
reunite match --pending | --all      run the queue once and exit (--all: then re-match every child, every core)
reunite candidates [--status S] [--json]
reunite flags [list [--open]]        reunite flags resolve ID --note TEXT
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, aliased, sessionmaker

from intake.cli.support import runtime_from_env
from intake.matches.queue import resolve_flag
from intake.models import Candidate, CandidateStatus, Case, JobState, MatchFlag, MatchJob, audit
from intake.platform.db import analyse_stale_tables
from intake.platform.errors import ReuniteError

if TYPE_CHECKING:  # the worker (numpy, numba) is loaded only by the commands that run it
    from matching.service.worker import BuildSummary, RunSummary, Worker

OPERATOR = "operator:cli"

SessionFactory = Callable[[], sessionmaker[Session]]


def _factory() -> sessionmaker[Session]:
    return runtime_from_env(demo_labs=False).session_factory


def _build_summary(summary: BuildSummary) -> Table:
    table = Table(title="matching index", show_header=False)
    for side in ("child", "family", "claimed"):
        table.add_row(f"{side} profiles", str(summary.indexed.get(side, 0)))
    table.add_row("held out (sex mismatch)", str(summary.held_out))
    table.add_row("built in", f"{summary.seconds:.1f} s")
    return table


def _flag_count(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(MatchFlag)) or 0)


def _run_summary(summary: RunSummary, session: Session, flags_before: int) -> Table:
    table = Table(title="match jobs", show_header=False)
    for kind in ("search", "rematch", "withdraw", "failed", "parked"):
        table.add_row(f"jobs {kind}", str(summary.jobs.get(kind, 0)))
    table.add_row("new candidates", str(summary.candidates))
    # Counted in the database, not summed from the driver's row counts (which printed "new flags -13" for 7).
    table.add_row("new flags", str(_flag_count(session) - flags_before))
    table.add_row("candidates superseded or withdrawn", str(summary.superseded))
    waiting = session.scalar(sa.select(sa.func.count()).where(MatchJob.state == JobState.QUEUED))
    parked = session.scalar(sa.select(sa.func.count()).where(MatchJob.state == JobState.PARKED))
    table.add_row("jobs still queued (retrying)", str(waiting))
    table.add_row("jobs parked (see their error)", str(parked))
    return table


def _search_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the search's settings (the bands of the Chinese parentage standard by default) to a command."""
    options = [
        click.option("--frequencies", type=click.Path(exists=True, dir_okay=False), default=None,
                     help="Allele-frequency CSV. Default: the shipped Chinese table."),
        click.option("--min-shared-markers", type=click.IntRange(1), default=15, show_default=True,
                     help="Fewer shared markers: 'not enough shared markers', never a candidate."),
        click.option("--candidate-lr", type=click.FloatRange(1, min_open=True), default=10_000.0,
                     show_default=True, help="Combined LR from which a pair is a candidate."),
        click.option("--inconclusive-lr", type=click.FloatRange(1, min_open=True), default=2_000.0,
                     show_default=True, help="Combined LR from which a pair is inconclusive."),
        click.option("--scale-threshold", is_flag=True, help="Raise the candidate LR with the database "
                     "size (expected unrelated candidates per search at most 0.01)."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _settings(options: dict[str, Any]) -> Any:
    from matching.search import SearchSettings

    if options["inconclusive_lr"] > options["candidate_lr"]:
        raise click.UsageError("--inconclusive-lr must not be above --candidate-lr")
    return SearchSettings(
        min_shared_markers=options["min_shared_markers"], candidate_lr=options["candidate_lr"],
        inconclusive_lr=options["inconclusive_lr"], scale_threshold=options["scale_threshold"],
    )  # fmt: skip


def _table(options: dict[str, Any]) -> Any:
    from matching.errors import KinshipError
    from matching.frequencies import FrequencyTable

    try:
        return (
            FrequencyTable.from_csv(options["frequencies"])
            if options["frequencies"]
            else FrequencyTable.default()
        )
    except KinshipError as exc:
        raise click.ClickException(str(exc)) from exc


def make_match_commands(get_factory: SessionFactory) -> list[click.Command]:
    """Return the matching commands, opening sessions from `get_factory()`."""

    def start(progress: bool, options: dict[str, Any], analyse: bool = False) -> Worker:
        from matching.service.worker import Worker

        factory = get_factory()
        if analyse:  # a re-match queries every case's facts in batches: not on a planner without statistics
            engine = factory.kw["bind"]
            if analysed := analyse_stale_tables(engine):
                click.echo(f"statistics brought up to date first (ANALYZE): {', '.join(analysed)}")
        worker = Worker(factory, _table(options), _settings(options))
        summary = worker.start(progress=progress)
        Console().print(_build_summary(summary))
        return worker

    @click.command("match-worker")
    @click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.05, 60), help="Seconds "
                  "between looks at an empty queue.")  # fmt: skip
    @click.option("--progress/--no-progress", default=True, show_default=True, help="Show the index build.")
    @_search_options
    def match_worker(poll: float, progress: bool, **options: Any) -> None:
        """Run the matching worker until SIGTERM or Ctrl-C: search each new profile as it is stored."""
        worker = start(progress, options)
        with get_factory()() as session:
            flags_before = _flag_count(session)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"matching worker {worker.name} waiting for jobs (stop with Ctrl-C or SIGTERM)")
        summary = worker.run_forever(stop, poll)
        with get_factory()() as session:
            Console().print(_run_summary(summary, session, flags_before))
        click.echo("matching worker stopped")

    @click.command("match")
    @click.option("--pending", "mode", flag_value="pending", help="Run the queued jobs once and exit.")
    @click.option("--all", "mode", flag_value="all", help="Search every current profile again (a new "
                  "frequency table or engine), then exit.")  # fmt: skip
    @click.option("--progress/--no-progress", default=True, show_default=True)
    @click.option("--dask", "dask_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
                  help="With --all: run the re-match on Dask, children sharded across its workers (a local "
                  "cluster without ADDRESS, e.g. tcp://10.0.0.5:8786).")  # fmt: skip
    @click.option("--workers", type=click.IntRange(1, 256), default=None,
                  help="With --all: processes searching the children (default: every local core); with --dask "
                  "and no ADDRESS: workers of the local Dask cluster (default 2).")  # fmt: skip
    @click.option("--snapshot-dir", type=click.Path(file_okay=False, exists=True), default=None,
                  help="With --dask ADDRESS: a folder on storage every Dask worker can read, where the index "
                  "snapshot is written (workers never connect to the database).")  # fmt: skip
    @_search_options
    def match(
        mode: str | None,
        progress: bool,
        dask_address: str | None,
        workers: int | None,
        snapshot_dir: str | None,
        **options: Any,
    ) -> None:
        """Run the matching queue once: --pending, or --all to re-match everything."""
        if mode is None:
            raise click.UsageError("say --pending or --all")
        if dask_address is not None:
            if mode != "all":
                raise click.UsageError("--dask runs a re-match: use it with --all")
            from matching.service.distributed import Cluster, DaskOptions, rematch_on_dask

            if dask_address != "local" and snapshot_dir is None:
                raise click.UsageError(
                    "--dask ADDRESS needs --snapshot-dir: a folder every Dask worker can read"
                )
            began = time.perf_counter()
            dask_options = DaskOptions(
                address=None if dask_address == "local" else dask_address,
                workers=workers or 2,
                snapshot_dir=snapshot_dir,
                progress=progress,
            )
            with Cluster(dask_options) as cluster:  # starts in the background while the index is built
                worker = start(progress, options, analyse=True)
                built = time.perf_counter() - began
                with get_factory()() as session:
                    flags_before = _flag_count(session)
                done = rematch_on_dask(worker, dask_options, cluster)
            t = done.times
            table = Table(title="re-match on Dask", show_header=False)
            table.add_row("queued jobs run first", str(sum(done.pending.jobs.values())))
            table.add_row("Dask workers", str(done.workers))
            table.add_row("shards", str(done.shards))
            table.add_row("children searched", str(done.children))
            table.add_row("new candidates", str(done.pending.candidates + done.candidates))
            with get_factory()() as session:  # counted in the database (see _run_summary)
                table.add_row("new flags", str(_flag_count(session) - flags_before))
            table.add_row("index build", f"{built:.1f} s (the cluster started meanwhile: {t.cluster:.1f} s)")
            table.add_row("re-match", f"{done.seconds:.1f} s = queue and identity {done.seconds - t.whole:.1f}"
                          f" + snapshot {t.snapshot:.1f} + wait for the cluster {t.start:.1f} + load {t.load:.1f}"
                          f" + scan and store {t.scan:.1f} + flags and close {t.close:.1f}")  # fmt: skip
            table.add_row(
                "CPU in the scan",
                f"client {t.client_cpu:.1f} s, searches on the workers {t.worker_cpu:.1f} s",
            )
            table.add_row(
                "memory of a Dask worker", f"{t.worker_memory / 2**20:,.0f} MB (peak RSS, the largest)"
            )
            table.add_row("took", f"{time.perf_counter() - began:.1f} s")
            Console().print(table)
            return
        worker = start(progress, options, analyse=mode == "all")
        with get_factory()() as session:
            flags_before = _flag_count(session)
        if mode == "all":
            from matching.service.rematch import rematch_all

            local = rematch_all(worker, workers=workers, progress=progress)
            table = Table(title="re-match", show_header=False)
            table.add_row("queued jobs run first", str(sum(local.pending.jobs.values())))
            table.add_row("children searched", str(local.children))
            table.add_row("new candidates", str(local.pending.candidates + local.candidates))
            with get_factory()() as session:  # counted in the database (see _run_summary)
                table.add_row("new flags", str(_flag_count(session) - flags_before))
            table.add_row("processes", str(local.workers))
            table.add_row("took", f"{local.seconds:.1f} s")
            Console().print(table)
            return
        summary = _run_with_progress(worker, progress)
        with get_factory()() as session:
            Console().print(_run_summary(summary, session, flags_before))

    @click.command("candidates")
    @click.option("--status", type=click.Choice([s.value for s in CandidateStatus]), default=None)
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line, with the genetic evidence "
                  "(for the server's operator; the read is audited).")  # fmt: skip
    def candidates(status: str | None, as_json: bool) -> None:
        """List the candidates the matcher found: both cases, relationship, LR, band, status."""
        child_case, family_case = aliased(Case), aliased(Case)
        query = (
            sa.select(Candidate, child_case.reference, family_case.reference)
            .join(child_case, child_case.id == Candidate.child_case_id)
            .join(family_case, family_case.id == Candidate.family_case_id)
            .order_by(Candidate.id)
        )
        if status is not None:
            query = query.where(Candidate.status == CandidateStatus(status))
        with get_factory()() as session, session.begin():
            rows = session.execute(query).all()
            lines = [json.dumps(_as_json(c, child_ref, family_ref), ensure_ascii=False)
                     for c, child_ref, family_ref in rows] if as_json else []  # fmt: skip
            if as_json:
                audit(session, OPERATOR, "candidates.read", "candidate", None, count=len(rows), status=status)
        if as_json:  # the read is committed to the audit log before a line is out (`| head` may end us early)
            for line in lines:
                click.echo(line)
            return
        if not rows:
            click.echo("no candidates")
            return
        for c, child_ref, family_ref in rows:
            lr = "LR 0" if c.log10_lr is None else f"log10 LR {c.log10_lr:.2f}"
            click.echo(
                f"#{c.id}  child {child_ref}  family {family_ref}  {c.relationship}  {lr}  {c.band}  {c.status}"
                f"  (expect {c.expected_unrelated:.2g} unrelated of {c.compared})"
            )

    @click.group("flags", invoke_without_command=True)
    @click.pass_context
    def flags(ctx: click.Context) -> None:
        """What the matcher flagged for officers and labs (sex mix-ups, persons sampled twice...)."""
        if ctx.invoked_subcommand is None:
            ctx.invoke(flags_list)

    @flags.command("list")
    @click.option("--open", "only_open", is_flag=True, help="Only flags not yet resolved.")
    def flags_list(only_open: bool = False) -> None:
        """List the flags: kind, cases, profiles, and how each was resolved."""
        query = sa.select(MatchFlag).order_by(MatchFlag.id)
        if only_open:
            query = query.where(MatchFlag.resolved_at.is_(None))
        with get_factory()() as session:
            rows = session.scalars(query).all()
            references = dict(session.execute(sa.select(Case.id, Case.reference).where(
                Case.id.in_({c for f in rows for c in f.case_ids}))).all())  # fmt: skip
        if not rows:
            click.echo("no flags")
        for f in rows:
            cases = ", ".join(references.get(c, str(c)) for c in f.case_ids)
            state = f"resolved by {f.resolved_by}: {f.resolution}" if f.resolved_at else "open"
            click.echo(f"#{f.id}  {f.kind}  cases {cases}  profiles {f.profile_ids}  {state}")

    @flags.command("resolve")
    @click.argument("flag_id", type=int)
    @click.option("--note", required=True, help="How it was resolved (e.g. 'lab confirmed the sample').")
    def flags_resolve(flag_id: int, note: str) -> None:
        """Mark a flag resolved; a resolved sex mismatch lets the profile into the search again."""
        with get_factory()() as session:
            try:
                flag = resolve_flag(session, flag_id, actor=OPERATOR, note=note)
            except ReuniteError as exc:
                raise click.ClickException(str(exc)) from exc
            session.commit()
        click.echo(f"flag #{flag.id} resolved")

    return [match_worker, match, candidates, flags]


def _as_json(c: Candidate, child_ref: str, family_ref: str) -> dict[str, Any]:
    return {
        "id": c.id, "child_case": child_ref, "family_case": family_ref, "relationship": c.relationship,
        "child_profile": c.child_profile_id, "family_profiles": c.family_profile_ids.split(","),
        "log10_lr": c.log10_lr, "band": c.band, "status": str(c.status),
        "inconsistent_markers": c.inconsistent_markers, "shared_markers": c.shared_markers,
        "skipped_markers": c.skipped_markers, "ask_for": c.ask_for, "compared": c.compared,
        "expected_unrelated": c.expected_unrelated, "frequency_table": c.frequency_table,
        "engine_version": c.engine_version, "superseded_by": c.superseded_by_id,
        "created_at": c.created_at.isoformat(), "evidence": c.evidence,
    }  # fmt: skip


def _run_with_progress(worker: Worker, progress: bool) -> RunSummary:
    """Run the queue to its end, with a rich progress bar of the jobs when `progress`."""
    from matching.service.worker import RunSummary

    if not progress:
        return worker.run_pending()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with worker.session_factory() as session:
        total = session.scalar(sa.select(sa.func.count()).where(MatchJob.state == JobState.QUEUED))
    summary = RunSummary()
    with Progress(TextColumn("searching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("jobs", total=total or None)
        while True:
            part = worker.run_pending(limit=100)
            if not part.jobs:
                break
            summary.add(part)
            bar.advance(task, sum(part.jobs.values()))
    return summary


match_commands = make_match_commands(_factory)
