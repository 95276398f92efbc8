"""`reunite labs key/revoke` and `reunite children register`, in-process and as a person runs them with curl."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from intake.cli.children import make_children_group
from intake.cli.lab_keys import make_labs_group_with_keys
from intake.labs.errors import ForbiddenError
from intake.labs.keys import authenticate, key_hash
from intake.models import Case, FoundChild, LabKey, Person, Role, Sample, SampleSource, Sex
from tests.support.factories import IDENTIFILER, genotypes, make_lab
from tests.test_cli import REUNITE, _env, _free_port


def test_a_key_is_printed_once_on_the_last_line_stored_as_a_hash_and_revocable(session_factory, session):
    lab = make_lab(session)
    session.commit()
    labs = make_labs_group_with_keys(lambda: session_factory)
    result = CliRunner().invoke(labs, ["key", str(lab.id), "--name", "LIMS"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("rlk_") and len(secret) > 40
    with session_factory() as s:
        key = s.scalars(sa.select(LabKey)).one()
        assert key.name == "LIMS" and key.key_hash == key_hash(secret) and secret not in str(vars(key))
        assert authenticate(s, secret).lab_id == lab.id
    revoked = CliRunner().invoke(labs, ["revoke", str(key.id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    with session_factory() as s, pytest.raises(ForbiddenError, match="revoked"):
        authenticate(s, secret)
    assert CliRunner().invoke(labs, ["key", "999"]).exit_code == 1
    assert CliRunner().invoke(labs, ["revoke", "999"]).exit_code == 1
    assert "import" in CliRunner().invoke(labs, ["--help"]).output  # the directory commands are still there


def test_an_officer_registers_a_child_suspected_of_being_kidnapped_with_the_claimed_parents(session_factory):
    children = make_children_group(lambda: session_factory)
    args = ["register", "--source", "suspected-kidnapped", "--sex", "female", "--age", "4", "--found-place",
            "广州火车站", "--found-date", "2026-11-20", "--description", "红色外套", "--claimed-parent",
            "mother:female", "--claimed-parent", "father:male", "--json"]  # fmt: skip
    result = CliRunner().invoke(children, args)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["case"].startswith("FC-2026-") and set(answer["samples"]) == {"child", "claimed_mother",
                                                                                  "claimed_father"}  # fmt: skip
    with session_factory() as s:
        case = s.scalars(sa.select(Case)).one()
        found = s.get_one(FoundChild, case.id)
        assert (found.source, found.found_place, found.estimated_age_years) == (
            SampleSource.SUSPECTED_KIDNAPPED_CHILD, "广州火车站", 4)  # fmt: skip
        assert case.child_sex == Sex.FEMALE and case.description == "红色外套"
        samples = {s.get_one(Person, x.person_id).role: x for x in s.scalars(sa.select(Sample))}
        assert samples[Role.CHILD].code == answer["samples"]["child"]
        assert samples[Role.CLAIMED_FATHER].sex == Sex.MALE
    plain = CliRunner().invoke(children, ["register", "--source", "rescued", "--sex", "male", "--age", "9",
                                          "--found-place", "昆明", "--found-date", "2026-10-01"])  # fmt: skip
    assert plain.exit_code == 0 and "found-child case FC-" in plain.output and "child" in plain.output


@pytest.mark.parametrize(
    "extra",
    [["--claimed-parent", "uncle:male"], ["--claimed-parent", "mother"], ["--found-date", "2099-01-01"],
     ["--age", "40"], ["--found-place", " "]],
)  # fmt: skip
def test_a_bad_registration_is_a_one_line_error_and_stores_nothing(session_factory, extra):
    base = {
        "--source": "rescued",
        "--sex": "male",
        "--age": "9",
        "--found-place": "昆明",
        "--found-date": "2026-10-01",
    }
    args = ["register"] + [x for k, v in base.items() if k not in extra for x in (k, v)] + extra
    if extra[0] == "--claimed-parent":
        args[args.index("rescued")] = "suspected-kidnapped"
    result = CliRunner().invoke(make_children_group(lambda: session_factory), args)
    assert result.exit_code != 0 and "Traceback" not in result.output
    with session_factory() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def _http(method: str, url: str, key: str, body: object | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_lab_does_it_all_against_a_real_reunite_serve(tmp_path):
    env = _env(tmp_path)

    def run(*args: str) -> str:
        done = subprocess.run(
            [*REUNITE, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("db", "upgrade")
    run(
        "labs", "import", "--demo", str(__import__("intake.labs.directory", fromlist=["DEMO_LABS"]).DEMO_LABS)
    )
    key = run("labs", "key", "1", "--name", "curl").strip().splitlines()[-1]
    registered = json.loads(run("children", "register", "--source", "rescued", "--sex", "male", "--age", "6",
                                "--found-place", "成都", "--found-date", "2026-11-01", "--lab", "1", "--json"))  # fmt: skip
    code = registered["samples"]["child"]
    port = _free_port()
    proc = subprocess.Popen([*REUNITE, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert _http("POST", f"{base}/samples/{code}/events", key, {"type": "collected"})[0] == 201
        status, body = _http("PUT", f"{base}/samples/{code}/profile", key,
                             {"kit": "Identifiler", "genotypes": genotypes(IDENTIFILER, 7)})  # fmt: skip
        assert status == 201 and body["markers"] == 15
        status, body = _http("GET", f"{base}/samples/{code}", key)
        assert status == 200 and body["state"] == "typed" and body["linked"]
        assert _http("GET", f"{base}/samples/{code}", key + "x")[0] == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_model_holds_a_volunteers_child_of_unknown_identity_and_refuses_a_parent_source(session):
    from datetime import date

    from intake.cases.found_children import case_kind, register_found_child
    from intake.models import CaseKind
    from intake.platform.errors import InputError

    registered = register_found_child(
        session, source=SampleSource.UNKNOWN_IDENTITY_CHILD, sex=Sex.UNKNOWN, age_years=12, found_place="深圳",
        found_date=date(2026, 9, 1), actor="volunteer:42", today=date(2026, 11, 29),
    )  # fmt: skip
    assert case_kind(session, registered.case) is CaseKind.FOUND_CHILD and list(registered.samples) == [
        "child"
    ]
    with pytest.raises(InputError):
        register_found_child(session, source=SampleSource.REPORTING_PARENT, sex=Sex.MALE, age_years=3,
                             found_place="x", found_date=date(2026, 9, 1), actor="officer:cli")  # fmt: skip
