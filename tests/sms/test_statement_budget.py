"""How many SQL statements one SMS delivery costs, pinned so that a slower hot path fails here first.

Each round trip to the database is most of the time of a delivery (docs/reliability.md, "Where the time of one SMS
delivery goes"). The budgets are the counts measured when the delivery became one transaction; a change that adds
a statement to a turn of this conversation must raise the budget here on purpose, and say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from intake.platform import clock
from tests.dialogue.helpers import NOW

# The benchmark's conversation (benchmarks/sms_phone.py REPORT_AND_BOOK_ZH): a Chinese parent reports a missing
# child, books a sampling appointment and asks for the status.
REPORT_AND_BOOK_ZH = (
    "你好", "1", "同意", "1", "李小明", "男", "5岁", "3天前", "广州火车站", "穿红色外套，左脸有痣", "王芳", "1",
    "1", "1", "广州", "1", "1", "1", "查询",
)  # fmt: skip

# Statements per message, turn by turn. On PostgreSQL an ordinary answer is 5: the contact, the inbound INSERT,
# the conversation row locked, its UPDATE, the replies' INSERT. SQLite adds its BEGIN IMMEDIATE to each, and
# inserts rows whose ids are needed one by one where PostgreSQL sends them in one statement. Before the delivery
# became one transaction these were 288 statements (15.2 a message) on SQLite and 244 (12.8) on PostgreSQL.
# STATUS (the last turn) reads one more: whether this contact withdrew from the case (DELETE) while it stays open
# for another family member, so STATUS, BOOK and MYDATA say the same (intake/dialogue/status.py, withdrawn_status).
# Raised on purpose (issue 17): the place last seen (turn 9) looks for the same child reported from another phone
# (one SELECT, in the answer's savepoint, which then costs its SAVEPOINT and RELEASE: +3); confirming the report
# (turn 13) looks again to flag the pair for officers (+1); each answer of the booking flow (turns 15-17) first
# reads its case, so that an answer after the family withdrew the case gets that reason and not a loop (+1 each).
# Raised on purpose (issue 19): confirming the booking (turn 17) moves the case's status ("sampling booked",
# intake/cases/status.py derives it from the case's facts before the commit): +16 then, +3 since issue 22: the
# status is derived once, at the commit, not at each savepoint's release (three of them in this answer: the
# booking, the sample, its custody event), and in one statement of five EXISTS instead of five SELECTs; what is
# left is the sample's case looked up, the one derive() and the case's UPDATE.
# Raised on purpose (issue 21): STATUS (turn 18) names the relative whose sample would help the search most, from
# the case's cached search power (intake/cases/power.py): +4, the cache row and the typed members it is keyed by.
BUDGET = {
    "sqlite": (13, 6, 6, 6, 6, 6, 6, 9, 9, 9, 6, 6, 17, 12, 15, 10, 8, 45, 28),  # 223, 11.7 a message
    "postgresql": (12, 5, 5, 5, 5, 5, 5, 8, 8, 8, 5, 5, 14, 11, 14, 9, 7, 44, 27),  # 202, 10.6 a message
}


@contextmanager
def counted(engine: Engine) -> Iterator[tuple[list[str], list[int]]]:
    """Collect the statements the engine sends and count its commits while the block runs."""
    statements: list[str] = []
    commits = [0]

    def on_statement(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    def on_commit(_conn: object) -> None:
        commits[0] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield statements, commits
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


def test_report_and_book_stays_within_its_statement_budget(phone, engine, backend):
    per_message, commits_per_message = [], []
    with clock.pinned(NOW), counted(engine) as (statements, commits):
        for text in REPORT_AND_BOOK_ZH:
            before, commits_before = len(statements), commits[0]
            replies = phone.text(text)
            per_message.append(len(statements) - before)
            commits_per_message.append(commits[0] - commits_before)
    assert any("已预约" in reply for reply in replies)  # else this measured some other conversation
    assert commits_per_message == [1] * len(REPORT_AND_BOOK_ZH)  # one transaction per delivery
    budget = BUDGET[backend]
    over = [
        (i, text, n, most)
        for i, (text, n, most) in enumerate(zip(REPORT_AND_BOOK_ZH, per_message, budget, strict=True))
        if n > most
    ]
    assert not over, f"turns over their statement budget (turn, text, statements, budget): {over}"
    assert sum(per_message) <= sum(budget)
