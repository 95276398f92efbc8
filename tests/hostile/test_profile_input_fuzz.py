"""Profile parsing and the GeneMapper import under arbitrary input: only their documented errors, never others.

`matching.profiles.parse_profile` raises a ProfileError; `intake.labs.profiles.check_genotypes` a
ProfileRejectedError (the lab API's 422); `intake.labs.genemapper.read_genotypes_table` a GeneMapperFormatError; the
import's per-sample step (`intake.labs.genemapper_import.sample_genotypes` then `check_genotypes`) a ProfileRejectedError.
The lab API hands these mappings over from JSON, so keys are strings and values any JSON value.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.labs.errors import ProfileRejectedError
from intake.labs.genemapper import GeneMapperFormatError, read_genotypes_table
from intake.labs.genemapper_import import sample_genotypes
from intake.labs.profiles import check_genotypes
from matching.errors import ProfileError
from matching.frequencies import FrequencyTable
from matching.profiles import parse_profile

FUZZ = settings(max_examples=200, deadline=None, database=None, derandomize=True)
TABLE = FrequencyTable.default()

MARKERS = [*TABLE.markers, "vWA", "VWA", "THO1", "Penta E", "PentaE", "AMEL", "Amelogenin", "DYS19", "Yindel"]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["12", "9.3", "30.2", "OL", "X", "Y", "12,14", "12/14", " ", "１２", "1e3", "-0", "inf"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
raw_mappings = st.dictionaries(
    st.one_of(st.sampled_from(MARKERS), st.text(max_size=12)), json_values, max_size=20
)


@FUZZ
@given(raw_mappings, st.booleans())
def test_parse_profile_raises_only_profile_errors(raw, with_table):
    try:
        profile = parse_profile(raw, table=TABLE if with_table else None)
    except ProfileError as exc:
        assert str(exc)
    else:
        assert profile.genotypes


@FUZZ
@given(st.one_of(raw_mappings, json_values), st.integers(min_value=0, max_value=30))
def test_check_genotypes_raises_only_the_rejection_the_api_reports(raw, min_markers):
    try:
        checked = check_genotypes(raw, min_markers)
    except ProfileRejectedError as exc:
        assert exc.code
    else:
        assert checked.autosomal_markers >= max(min_markers, 1) and len(checked.digest) == 64


HEADER = "Sample Name\tSample Type\tPanel\tMarker\tAllele 1\tAllele 2\tAllele 3"
cells = st.one_of(
    st.sampled_from(
        ["K7QX-M2PD", "K7QX-M2PD_2", "Ladder", "PC", "NC 1", "9947A", "", "OL", "X", *MARKERS[:6]]
    ),
    st.sampled_from(["9", "12", "30.2", "Sample", "Allelic Ladder", "Positive Control"]),
    st.text(alphabet=st.characters(blacklist_characters="\t\r\n"), max_size=10),
)
rows = st.lists(st.lists(cells, max_size=9).map("\t".join), max_size=12)
headers = st.one_of(
    st.just(HEADER),
    st.just("样本名称\t基因座\t等位基因1\t等位基因2"),
    st.lists(
        st.sampled_from(["Sample Name", "Marker", "Allele 1", "Allele 99", "Size 1", "", "Dye"]), max_size=6
    ).map("\t".join),
    st.text(max_size=30),
)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le"])


@st.composite
def exports(draw: st.DrawFn) -> bytes:
    text = "\r\n".join([draw(headers), *draw(rows)])
    data = text.encode(draw(encodings), errors="replace")
    if draw(st.booleans()):  # cut anywhere, or bytes that are no text at all
        data = data[: draw(st.integers(0, len(data)))]
    return data + draw(st.binary(max_size=8)) if draw(st.booleans()) else data


@FUZZ
@given(st.one_of(exports(), st.binary(max_size=200)))
def test_genemapper_export_reads_or_raises_only_a_format_error(data):
    try:
        table = read_genotypes_table(data)
    except GeneMapperFormatError as exc:
        assert exc.code == "bad_genemapper_file"
        return
    for sample in table.samples:
        try:
            genotypes, _left_out = sample_genotypes(sample)
            check_genotypes(genotypes, 1)
        except ProfileRejectedError as exc:
            assert exc.code
