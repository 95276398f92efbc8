"""`reunite synth`: a synthetic population in the database (SQLite and PostgreSQL), its truth file, `--clear`."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from click.testing import CliRunner

from intake.cases.found_children import register_found_child
from intake.cli.synth import make_synth_command
from intake.models import Case, Consent, DnaProfile, FoundChild, Lab, Person, Role, Sample, SampleSource, Sex
from intake.synthetic import LAB_NAME, PREFIX
from matching.profiles import parse_profile
from matching.synthetic import IDENTIFILER


def _synth(engine, tmp_path, *args):
    command = make_synth_command(lambda: (engine, tmp_path))
    result = CliRunner().invoke(command, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _count(session, model, *where):
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_synth_writes_the_requested_families_and_children(engine, session, tmp_path):
    truth = tmp_path / "truth.json"
    out = _synth(
        engine, tmp_path, "--families", "80", "--children", "40", "--seed", "4", "--truth", str(truth)
    )
    assert "families (SYN-MC-...)" in out and "truth file" in out
    synthetic = Case.reference.like(f"{PREFIX}%")
    found_ids = sa.select(FoundChild.case_id)
    assert _count(session, Case, synthetic, Case.id.not_in(found_ids)) == 80
    assert _count(session, Case, synthetic, Case.id.in_(found_ids)) == 40
    assert _count(session, Person, Person.role == Role.FATHER) == 80
    assert _count(session, Person, Person.role == Role.MOTHER) == 80
    assert _count(session, Person, Person.role == Role.CHILD) == 40
    assert _count(session, Consent, Consent.granted.is_(True)) == 160  # both scopes of every family case
    assert _count(session, DnaProfile) == _count(session, Sample)
    samples = session.scalars(sa.select(Sample)).all()
    assert {s.source for s in samples} >= {SampleSource.REPORTING_PARENT}
    assert all(s.code.startswith("SYN") for s in samples)
    document = json.loads(truth.read_text())
    assert document["families"] == 80 and document["children"] == 40 and len(document["true_children"]) == 20


def test_truth_points_to_real_rows_and_true_children_are_mendel_consistent(engine, session, tmp_path):
    truth = tmp_path / "truth.json"
    _synth(engine, tmp_path, "--families", "150", "--children", "120", "--seed", "8", "--truth", str(truth),
           "--mutation-rate", "0.02")  # fmt: skip
    entries = json.loads(truth.read_text())["true_children"]
    assert len(entries) == 60

    def profile_of(profile_id):
        row = session.get(DnaProfile, profile_id)
        assert row is not None, profile_id
        sample = session.get(Sample, row.sample_id)
        return row, session.get(Case, sample.case_id), parse_profile(row.genotypes)

    checked_mutation = False
    for entry in entries:
        child_row, child_case, child = profile_of(entry["found_profile"])
        assert child_case.reference == entry["found_case"]
        assert session.get(FoundChild, child_case.id) is not None
        parents = {}
        for role, profile_id in entry["family_profiles"].items():
            _row, case, prof = profile_of(profile_id)
            assert case.reference == entry["family_case"]
            parents[role] = prof
        for role in ("father", "mother"):
            if role not in parents:
                continue
            for marker, genotype in child.genotypes.items():
                parent = parents[role].genotype(marker)
                if parent is None:
                    continue
                if not set(genotype) & set(parent):  # an excluded marker: only where a mutation was planted
                    assert marker in entry["mutated_typed_markers"], (entry, marker)
                    checked_mutation = True
        assert set(entry["mutated_typed_markers"]) <= set(child.genotypes)
    assert checked_mutation  # at rate 0.02 some planted mutation shows


def test_identifiler_profiles_have_exactly_its_markers(engine, session, tmp_path):
    _synth(
        engine,
        tmp_path,
        "--families",
        "120",
        "--children",
        "30",
        "--seed",
        "2",
        "--truth",
        str(tmp_path / "t.json"),
    )
    rows = session.scalars(sa.select(DnaProfile).where(DnaProfile.kit == "Identifiler")).all()
    assert rows
    for row in rows:
        assert set(row.genotypes) == {*IDENTIFILER, "Amelogenin"}
        assert row.autosomal_markers == 15
    others = session.scalars(sa.select(DnaProfile).where(DnaProfile.kit != "Identifiler")).all()
    assert all(row.autosomal_markers >= 20 for row in others)


def test_clear_removes_only_synthetic_data(engine, session, tmp_path):
    real = register_found_child(
        session, source=SampleSource.RESCUED_CHILD, sex=Sex.FEMALE, age_years=6, found_place="Kunming station",
        found_date=date(2026, 1, 5), actor="officer:test", today=date(2026, 2, 1),
    )  # fmt: skip
    session.commit()
    _synth(engine, tmp_path, "--families", "30", "--children", "10", "--seed", "1")
    assert list((tmp_path / "synth").glob("truth-*.json"))
    out = _synth(engine, tmp_path, "--clear")
    assert "removed synthetic data" in out
    session.expire_all()
    assert _count(session, Case) == 1 and session.get(Case, real.case.id) is not None
    assert _count(session, Person) == 1 and _count(session, Sample) == 1
    assert _count(session, DnaProfile) == 0 and _count(session, Consent) == 0
    assert _count(session, Lab, Lab.name == LAB_NAME) == 0
    assert not list((tmp_path / "synth").glob("truth-*.json"))
    indexes = {
        i["name"] for t in ("consents", "profiles") for i in sa.inspect(session.connection()).get_indexes(t)
    }
    assert not any(name.startswith("tmp_synth") for name in indexes)  # the clear's helper indexes are gone


def test_synth_without_numbers_is_a_usage_error(engine, tmp_path):
    result = CliRunner().invoke(make_synth_command(lambda: (engine, tmp_path)), [])
    assert result.exit_code == 2 and "--families" in result.output


def test_the_worker_index_takes_every_synthetic_profile_and_finds_the_true_couples(engine, session, tmp_path):
    """The service's start-up build reads a synth population whole; each true child's couple is its candidate."""
    from matching.frequencies import FrequencyTable
    from matching.search import Band, Settings
    from matching.service import build_index

    truth = tmp_path / "truth.json"
    _synth(engine, tmp_path, "--families", "60", "--children", "24", "--seed", "6", "--truth", str(truth),
           "--mutation-rate", "0")  # fmt: skip
    index, built = build_index(session, FrequencyTable.default(), Settings())
    assert built.total == _count(session, DnaProfile) and built.held_out == 0
    assert built.indexed["child"] == 24
    entries = json.loads(truth.read_text())["true_children"]
    trios = [e for e in entries if {"father", "mother"} <= set(e["family_profiles"])]
    assert trios
    true_child_ids = {e["found_profile"] for e in entries}
    for entry in trios:
        found = index.search(entry["found_profile"])
        couple = tuple(sorted((entry["family_profiles"]["father"], entry["family_profiles"]["mother"])))
        candidates = [c for c in found.comparisons if c.band == Band.CANDIDATE]
        assert ("trio_couple", couple) in [(c.relationship, c.family_profile_ids) for c in candidates]
        family = set(
            entry["family_profiles"].values()
        )  # a typed sibling or grandparent may be a candidate too
        assert all(set(c.family_profile_ids) <= family for c in candidates)
    unrelated = session.scalars(
        sa.select(DnaProfile.id).join(Sample).where(Sample.source != SampleSource.REPORTING_PARENT)
    ).all()
    for profile_id in set(unrelated) - true_child_ids:
        assert not [c for c in index.search(profile_id).comparisons if c.band == Band.CANDIDATE]
