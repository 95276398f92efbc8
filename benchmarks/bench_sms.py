"""How fast the SMS webhook answers: signed Twilio POSTs to /sms/inbound on the embedded SQLite default.

Twilio waits at most 15 s for the TwiML reply. This plays the whole Chinese report-and-book conversation for many
phones and prints the per-message latency (median, 95th percentile, worst), next to GET /healthz measured in the
same run as the floor (the cost of Flask and one database round trip), the CPU time of this process per message
(what a busy shared machine distorts least) and the SQL statements sent per message.

    .venv/bin/python benchmarks/bench_sms.py [--phones 50] [--database-url URL] [--profile]

--profile runs the messages under cProfile (slower) and prints the share of the time each part of a delivery takes.
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sms_phone import AUTH_TOKEN, PUBLIC_BASE_URL, REPORT_AND_BOOK_ZH, Phone  # noqa: E402
from intake.platform.settings import Settings  # noqa: E402
from intake.runtime import Runtime  # noqa: E402
from intake.web import create_app  # noqa: E402


def _figures(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"{name:<28} n={len(ms):>5}  median {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms  max {ms[-1]:7.2f} ms"


# The parts of one delivery, as (file name, function): the whole request first, then its parts.
PARTS = (
    ("app.py", "__call__", "the whole request (Flask)"),
    ("webhook.py", "refuse_unsigned", "Twilio signature check"),
    ("webhook.py", "read_form", "form checks"),
    ("inbox.py", "store_inbound", "storing the message"),
    ("engine.py", "handle", "the dialogue"),
    ("inbox.py", "_record_replies", "storing the replies"),
    ("session.py", "commit", "the commit"),
    ("webhook.py", "twiml", "TwiML"),
    ("base.py", "_execute_context", "inside SQL statements (all of the above)"),
)


def _shares(profile: cProfile.Profile) -> list[str]:
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]

    def cumulative(file: str, function: str) -> float:
        return sum(v[3] for k, v in stats.items() if Path(k[0]).name == file and k[2] == function)

    whole = cumulative(*PARTS[0][:2]) or 1.0
    return [f"  {name:<42} {cumulative(file, fn) / whole:6.1%}" for file, fn, name in PARTS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument(
        "--database-url", default=None, help="default: a new SQLite file in a temporary folder"
    )
    parser.add_argument("--profile", action="store_true", help="print where the time of a delivery goes")
    args = parser.parse_args()
    profile = cProfile.Profile() if args.profile else None

    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            "REUNITE_DATA_DIR": data_dir,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        }
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        settings = Settings.from_env(env, load_dotenv_file=False)
        rt = Runtime.start(settings)
        app = create_app(rt=rt)
        client = app.test_client()
        statements = [0]

        @event.listens_for(rt.engine, "before_cursor_execute")
        def _count(*_args: object) -> None:
            statements[0] += 1

        health = []
        for _ in range(200):
            start = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            health.append(time.perf_counter() - start)

        turns = REPORT_AND_BOOK_ZH
        latencies, cpu = [], []
        statements[0] = 0
        for n in range(args.phones):
            phone = Phone(client, number=f"+86138{n:08d}")
            for text in turns:
                start, start_cpu = time.perf_counter(), time.process_time()
                if profile is not None:
                    profile.enable()
                replies = phone.text(text)
                if profile is not None:
                    profile.disable()
                latencies.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            if not any("已预约" in r for r in replies):  # else the run measured some other conversation
                print(f"the conversation did not end booked; last replies: {replies}", file=sys.stderr)
                return 1

    print(
        f"reunite SMS webhook benchmark: {args.phones} phones x {len(turns)} messages (Chinese report and booking)"
    )
    print(f"database: {args.database_url or 'SQLite file (embedded default)'}")
    print(
        f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or platform.system()}"
    )
    print(_figures("GET /healthz (floor)", health))
    print(_figures("POST /sms/inbound (signed)", latencies))
    print(_figures("  CPU time of this process", cpu))
    print(f"SQL statements per message: {statements[0] / len(latencies):.2f}")
    if profile is not None:
        print("share of the time of a delivery (cProfile, cumulative):", *_shares(profile), sep="\n")
    print("reproduce: .venv/bin/python benchmarks/bench_sms.py --phones", args.phones)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
