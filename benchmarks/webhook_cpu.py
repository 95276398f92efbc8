"""CPU and SQL statements of one spooled webhook request, in process, against a PostgreSQL database of your own.

The load run (benchmarks/load_sms.py) measures acceptance over real HTTP on a machine the client, PostgreSQL and
the workers share; this measures what one delivery costs the web process alone: CPU time per request (so other
jobs on the machine matter less than to a wall clock), SQL statements per request, and with --profile where
the time goes (cProfile). `--bare` measures the bare signed endpoint (benchmarks/bare_sms.py) the same way.

    createdb -h 127.0.0.1 -U postgres webhook_cpu
    .venv/bin/python benchmarks/webhook_cpu.py --url postgresql+psycopg://postgres@127.0.0.1:5432/webhook_cpu
    .venv/bin/python benchmarks/webhook_cpu.py --url ... --telegram      # Telegram's webhook
    .venv/bin/python benchmarks/webhook_cpu.py --url ... --bare          # the bare endpoint
    .venv/bin/python benchmarks/webhook_cpu.py --url ... --profile       # cProfile, top 40 by cumulative time
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_sms import BOT_TOKEN, WEBHOOK_SECRET  # noqa: E402
from benchmarks.sms_phone import AUTH_TOKEN, PUBLIC_BASE_URL  # noqa: E402
from intake.platform.crypto import KEYS_VARIABLE, new_key  # noqa: E402


def requests(n: int, telegram: bool) -> list[tuple[str, bytes, dict[str, str]]]:
    """Signed deliveries from 500 phones (or updates from 50 chats), built before the timed part."""
    validator, stamp, out = RequestValidator(AUTH_TOKEN), time.time_ns() % 10**8, []
    for i in range(n):
        if telegram:
            chat = 7000 + i % 50
            update = {"update_id": stamp * 10_000 + i, "message": {"message_id": i + 1, "date": 1_790_000_000,
                      "text": "你好", "chat": {"id": chat, "type": "private"},
                      "from": {"id": chat, "is_bot": False, "first_name": "p"}}}  # fmt: skip
            headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            out.append(("/telegram/webhook", json.dumps(update).encode(), headers))
            continue
        params = {"MessageSid": f"SM{stamp:08x}{i:024x}", "AccountSid": "AC" + "0" * 32,
                  "From": f"+86138{i % 500:08d}", "To": "+8610690000000", "Body": "你好", "NumMedia": "0"}  # fmt: skip
        signature = validator.compute_signature(PUBLIC_BASE_URL + "/sms/inbound", params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        out.append(("/sms/inbound", urlencode(params).encode(), headers))
    return out


def app_and_engine(args: argparse.Namespace) -> tuple[Any, sa.Engine]:
    if args.bare:
        os.environ["BARE_DATABASE_URL"] = args.url
        from benchmarks import bare_sms

        engine = sa.create_engine(args.url)
        bare_sms.create_table(engine)
        bare_sms.app.test_client().post("/sms/inbound")  # opens the endpoint's own engine (403: unsigned)
        return bare_sms.app, engine
    from intake.platform.settings import Settings
    from intake.runtime import Runtime
    from intake.web import create_app

    env = {"REUNITE_DATA_DIR": tempfile.mkdtemp(prefix="webhook-cpu-"), "DATABASE_URL": args.url,
           "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "REUNITE_REPLY_MODE": "spool",
           "TWILIO_ACCOUNT_SID": "AC" + "2" * 32, "TWILIO_FROM_NUMBER": "+8610690000000",
           "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
           KEYS_VARIABLE: os.environ.get(KEYS_VARIABLE) or new_key()}  # fmt: skip
    os.environ.update(env)
    rt = Runtime.start(Settings.from_env(env, load_dotenv_file=False), demo_labs=False)
    with rt.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM deliveries"))
    return create_app(rt=rt), rt.engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", required=True, help="a PostgreSQL database of your own (its schema is migrated)"
    )
    parser.add_argument("-n", type=int, default=1000, help="requests timed (after one untimed)")
    parser.add_argument("--telegram", action="store_true")
    parser.add_argument("--bare", action="store_true", help="the bare signed endpoint instead")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 40 by cumulative time")
    args = parser.parse_args()
    app, engine = app_and_engine(args)
    sent = requests(args.n + 1, args.telegram and not args.bare)
    client = app.test_client()
    first = client.post(sent[0][0], data=sent[0][1], headers=sent[0][2])
    assert first.status_code == 200, first.data
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cu, s, *_a: statements.append(s.split()[0]))
    profile = cProfile.Profile()
    if args.profile:
        profile.enable()
    wall, cpu = time.perf_counter(), time.process_time()
    for path, body, headers in sent[1:]:
        assert client.post(path, data=body, headers=headers).status_code == 200
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    profile.disable()
    what = "bare endpoint" if args.bare else ("Telegram webhook" if args.telegram else "SMS webhook (spool)")
    per = (
        f"{len(statements) / args.n:.2f} ({dict(Counter(statements))})"
        if not args.bare
        else "(its own engine)"
    )
    print(f"{what}: {args.n} requests, CPU {cpu / args.n * 1000:.2f} ms a request, wall {wall / args.n * 1000:.2f}"
          f" ms; SQL statements a request: {per}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
