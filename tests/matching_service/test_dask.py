"""The full re-match on Dask: families sharded across workers, every pair found once, stored once, with the
database size of the whole search."""

from __future__ import annotations

from click.testing import CliRunner

from intake.cli.match import make_match_commands
from intake.models import Role
from matching.search import Settings
from matching.service import Worker
from matching.service.distributed import rematch_on_dask
from tests.matching_service.world import TABLE


def test_a_rematch_on_two_dask_workers_finds_each_pair_once_with_the_whole_database_size(world):
    parents, child, mother, father = world.typed_trio()
    for _ in range(3):  # unrelated families, spread over both shards by case id
        others = world.family(Role.MOTHER, Role.FATHER)
        world.upload(others.codes["mother"], world.person("female"))
        world.upload(others.codes["father"], world.person("male"))
    sister = world.found_child()
    world.upload(sister["child"], world.child(father, mother))

    done = rematch_on_dask(world.factory, TABLE, Settings(), workers=2, processes=False)
    assert done.shards == 2 and done.children == 2 and done.candidates == 2
    found = world.candidates()
    assert sorted(c.relationship for c in found) == ["trio_couple", "trio_couple"]
    assert {c.family_case_id for c in found} == {parents.case_id}
    assert all(c.compared == 4 for c in found)  # every family, not one shard's

    Worker(world.factory).run_pending()  # the profiles' own queued searches find the same pairs
    assert [c.id for c in world.candidates()] == [c.id for c in found]


def test_match_all_on_a_local_dask_cluster_from_the_command_line(world):
    world.typed_trio()
    commands = {c.name: c for c in make_match_commands(lambda: world.factory)}
    result = CliRunner().invoke(
        commands["match"], ["--all", "--dask", "--workers", "1"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "children searched" in result.output and len(world.candidates()) == 1
    wrong = CliRunner().invoke(commands["match"], ["--pending", "--dask"])
    assert wrong.exit_code == 2 and "--all" in wrong.output
