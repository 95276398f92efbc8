"""A bounded fault run (benchmarks/fault_notifications.py): real `reunite worker` processes SIGKILLed and restarted
while fake Twilio and Telegram answer 500, then 429 with Retry-After, then 403/21610 for some recipients, and
10% of the queuing transactions roll back. The long run is the benchmark's command (docs/reliability.md)."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.fault_notifications import Config, Result, report, run
from tests.support.databases import PG_ADMIN_URL, postgres_required, postgres_unavailable_reason


def _assert_guarantees(result: Result) -> None:
    failed = [name for name, ok in result.checks() if not ok]
    assert not failed, report(result, None)
    assert result.events_rolled_back and result.events_committed  # both kinds of transaction happened
    assert sum(k.deliberate for k in result.kills) == result.config.window_kills  # every planned kill landed
    hits = result.window_hits
    assert sum(hits.values()) >= result.config.window_kills, report(result, None)  # ... after acceptance
    assert result.restarts >= len(result.kills)
    assert result.retry_after_min_gap is not None  # 429s were answered and waited out
    assert (
        result.failed_with_fallback >= 1 and result.failed_audited_only >= 1
    )  # both kinds of terminal failure
    assert result.gave_up == 0
    shutil.rmtree(result.log_dir, ignore_errors=True)  # the workers' logs, kept when an assertion failed


@pytest.mark.postgres
def test_workers_killed_under_provider_faults_on_postgresql() -> None:
    reason = postgres_unavailable_reason()
    if reason is not None:
        if postgres_required():
            pytest.fail(reason)
        pytest.skip(reason)
    result = run(Config(notifications=160, workers=2, database_url=PG_ADMIN_URL, error_seconds=2,
                        throttle_seconds=2, produce_seconds=5, window_kills=3, random_kills=1, per_second=20,
                        lease_seconds=3, deadline_seconds=120), echo=False)  # fmt: skip
    _assert_guarantees(result)


def test_a_worker_killed_under_provider_faults_on_sqlite() -> None:
    result = run(Config(notifications=120, workers=1, database_url="sqlite://", error_seconds=2,
                        throttle_seconds=2, produce_seconds=4, window_kills=2, random_kills=1, per_second=20,
                        lease_seconds=3, deadline_seconds=120), echo=False)  # fmt: skip
    _assert_guarantees(result)
