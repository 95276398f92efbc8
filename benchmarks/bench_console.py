"""The console's case list and search with 100,000 cases on PostgreSQL (issue 19): how long a page takes.

Makes a fresh database on the PostgreSQL server of REUNITE_BENCH_PG (default the tests' server), migrated to head,
with N missing-child cases (a reporter with a Chinese name and a phone, a child's name, a sample code each),
then times the console's pages through Flask's test client as a national admin (or, `--officer provincial`, a
supervisor of one of the two provinces the cases are in, whose scope is SQL in every query): the first page, a deep page,
filters, and the search by reporter's name, child's name, phone, case reference and sample code. Prints the
median and the 95th percentile of each, then drops the database.

    .venv/bin/python -m benchmarks.bench_console --cases 100000 --repeat 10
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from intake.models import Case, CaseStatus, Channel, Contact, OfficerRole, Person, Role, Sample, SampleSource
from intake.models.officers import create_officer
from intake.platform import schema
from intake.platform.db import make_engine
from intake.platform.settings import Settings
from intake.runtime import Runtime
from intake.web import create_app

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The cases' provinces (of their place: no case is at a lab yet), so a provincial officer sees one case in two.
PROVINCES = ("广东省", "北京市")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛"
PASSWORD = "benchmark password"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def fill(engine: sa.Engine, n: int, seed: int = 19) -> dict[str, str]:
    """Write `n` cases in chunks (Core executemany); return one case's reference, names, phone and sample code."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    chunk = 5_000
    probe: dict[str, str] = {}
    with engine.begin() as conn:
        for first in range(0, n, chunk):
            count = min(chunk, n - first)
            phones = [f"+86139{first + i:08d}" for i in range(count)]
            contact_ids = conn.execute(
                sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
                [{"channel": Channel.SMS, "address": p} for p in phones],
            ).scalars().all()  # fmt: skip
            cases = [
                {"reference": f"MC-2025-B{first + i:07d}", "pin": f"{rng.randrange(10**6):06d}",
                 "status": rng.choice(list(CaseStatus)), "child_name": _name(rng),
                 "created_at": start + timedelta(minutes=5 * (first + i)), "reported_by_contact_id": contact_ids[i],
                 "place_province": PROVINCES[(first + i) % len(PROVINCES)]}
                for i in range(count)
            ]  # fmt: skip
            case_ids = conn.execute(
                sa.insert(Case).returning(Case.id, sort_by_parameter_order=True), cases
            ).scalars().all()  # fmt: skip
            reporters = [_name(rng) for _ in range(count)]
            conn.execute(sa.insert(Person), [
                {"case_id": case_ids[i], "role": Role.MOTHER, "name": reporters[i], "contact_id": contact_ids[i]}
                for i in range(count)
            ])  # fmt: skip
            conn.execute(sa.insert(Sample), [
                {"code": f"B{first + i:07d}", "source": SampleSource.REPORTING_PARENT, "case_id": case_ids[i]}
                for i in range(count)
            ])  # fmt: skip
            if first <= n // 2 < first + count:
                i = n // 2 - first
                probe = {"reference": cases[i]["reference"], "reporter": reporters[i],
                         "child": cases[i]["child_name"], "phone": phones[i][3:], "code": f"B{n // 2:07d}"}  # fmt: skip
        conn.execute(sa.text("ANALYZE"))
    return probe


def timed(client: object, path: str, repeat: int) -> tuple[float, float, int]:
    """Return (median ms, p95 ms, status) of `repeat` GETs of `path`."""
    times = []
    status = 0
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - began) * 1000)
        status = response.status_code
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], status


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--server", default=PG, help="a PostgreSQL URL whose user may create databases")
    parser.add_argument(
        "--officer", choices=("national", "provincial"), default="national",
        help="time the pages as a national admin, or as a supervisor of one province (intake.places.scope)",
    )  # fmt: skip
    args = parser.parse_args()
    name = f"reunite_bench_console_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        began = time.perf_counter()
        probe = fill(engine, args.cases)
        print(
            f"{args.cases:,} cases written in {time.perf_counter() - began:.0f} s (PostgreSQL, database {name})"
        )
        factory = sessionmaker(engine, expire_on_commit=False)
        with factory() as s:
            if args.officer == "national":
                create_officer(s, username="bench", display_name="bench", role=OfficerRole.ADMIN, province=None,
                               password=PASSWORD, actor="bench")  # fmt: skip
            else:
                create_officer(s, username="bench", display_name="bench", role=OfficerRole.SUPERVISOR,
                               province=PROVINCES[0], password=PASSWORD, actor="bench")  # fmt: skip
            s.commit()
        with tempfile.TemporaryDirectory() as data:
            base = Settings.from_env({"REUNITE_DATA_DIR": data}, load_dotenv_file=False)
            app = create_app(rt=Runtime(dataclasses.replace(base, database_url=url), engine, factory))
            client = app.test_client()
            page = client.get("/console/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token is not None
            form = {"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)}
            assert client.post("/console/login", data=form).status_code == 302
            pages = {
                "case list, first page (50)": "/console/cases",
                "case list, page 1,000": "/console/cases?page=1000",
                "case list, oldest first": "/console/cases?sort=oldest",
                "filter: status": "/console/cases?status=profiled",
                "filter: one month": "/console/cases?from=2025-02-01&to=2025-02-28",
                "search: reporter's name": f"/console/cases?q={probe['reporter']}",
                "search: child's name": f"/console/cases?q={probe['child']}",
                "search: phone (as written)": f"/console/cases?q={probe['phone']}",
                "search: case reference": f"/console/cases?q={probe['reference']}",
                "search: sample code": f"/console/cases?q={probe['code']}",
                "dashboard": "/console/",
            }
            print(f"{'page':32} {'median ms':>10} {'p95 ms':>8}  status   ({args.repeat} requests each)")
            for what, path in pages.items():
                median, p95, status = timed(client, path, args.repeat)
                print(f"{what:32} {median:10.1f} {p95:8.1f}  {status}")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
