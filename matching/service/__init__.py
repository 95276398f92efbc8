"""The matching service: the kinship engine (`matching.search`) over the database (`intake`).

Only this package of `matching` uses the core; only the CLI imports it (import-linter contracts in pyproject.toml).

    entries(session, profile_ids=None) -> Iterator[Entry]          the rows the matcher may use, as index entries
    build_index(session, table, settings, progress=False, bulk=True) -> (MatchIndex, BuildSummary)
    bulk.blocks(session, encoder, chunk, flags) -> Iterator[Block]   the same rows as `Block`s (COPY on PostgreSQL)
    Worker(session_factory, table=None, settings=None).start(); .run_pending(); .run_forever(stop)
    enqueue_all(session) -> int                                     a rematch job of every profile (the workers run them)
    rematch.rematch_all(worker, workers=None) -> RematchSummary      `reunite match --all`: one direction, every core
    distributed.rematch_on_dask(worker, DaskOptions(...))            `reunite match --all --dask`
"""

from matching.service.entries import entries, entry_for
from matching.service.worker import BuildSummary, RunSummary, Worker, build_index, enqueue_all

__all__ = ["BuildSummary", "RunSummary", "Worker", "build_index", "enqueue_all", "entries", "entry_for"]
