"""The bulk decoder of stored genotypes (`matching.stored`) means exactly what `stored_profile` reads, or declines.

Every text it decodes gives the codes and Amelogenin of `stored_profile` + `Encoder.encode`; canonical texts (as
the intake stores them) are all decoded; anything else (spaces, escapes, unknown markers or alleles, a marker
twice, damaged bytes) is either declined or, if still a canonical text, read the same. The compiled parser
(`decode`) gives exactly the `Decoded` of the numpy reference (`_decode_numpy`) on every text here, canonical, odd,
damaged or drawn by hypothesis.
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.labs.profiles import check_genotypes
from matching.index import Encoder
from matching.service.entries import stored_profile
from matching.simulate import random_profile
from matching.stored import AMELOGENIN_VALUES, StoredDecoder
from tests.matching_service.world import KIT, TABLE

ENCODER = Encoder(TABLE)
DECODER = StoredDecoder(ENCODER)


def _generic(text: bytes) -> tuple[list[int], int] | None:
    """The one-by-one reading: codes and Amelogenin index, or None if the profile is not used."""
    try:
        genotypes = json.loads(text)
    except ValueError:
        return None
    profile = stored_profile(genotypes) if isinstance(genotypes, dict) and genotypes else None
    if profile is None:
        return None
    column, _ = ENCODER.encode(profile)
    amelogenin = profile.other.get("Amelogenin")
    return column.tolist(), AMELOGENIN_VALUES.index(tuple(amelogenin)) if amelogenin else -1


def _buffer(texts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    buffer = np.frombuffer(b"".join(texts), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    return buffer, offsets


def _same_as_reference(texts: list[bytes]) -> None:
    """The compiled parser's `Decoded` is the numpy reference's, array for array (dtype included)."""
    buffer, offsets = _buffer(texts)
    got, want = DECODER.decode(buffer, offsets), DECODER._decode_numpy(buffer, offsets)
    for name in ("codes", "ok", "amelogenin"):
        g, w = getattr(got, name), getattr(want, name)
        assert g.dtype == w.dtype and g.shape == w.shape, name
        differ = np.flatnonzero((g != w).reshape(-1, len(texts)).any(axis=0))
        assert not len(differ), (name, [texts[i] for i in differ[:3].tolist()])


def _decode(texts: list[bytes]) -> list[tuple[list[int], int] | None]:
    _same_as_reference(texts)
    decoded = DECODER.decode(*_buffer(texts))
    return [
        (decoded.codes[:, i].tolist(), int(decoded.amelogenin[i])) if decoded.ok[i] else None
        for i in range(len(texts))
    ]


def _stored(profile_dict: dict[str, list[str]]) -> bytes:
    """The text the intake stores (`EncryptedJSON` before sealing)."""
    return json.dumps(
        check_genotypes(profile_dict, min_markers=1).genotypes, ensure_ascii=False, separators=(",", ":")
    ).encode()


def _canonical_texts(rng: np.random.Generator, n: int, typed: float) -> list[bytes]:
    """n random people's stored texts, each kit marker typed with probability `typed`, a third of them female, a
    third male (Amelogenin), a third without Amelogenin."""
    texts = []
    for i in range(n):
        markers = [m for m in KIT if rng.random() < typed] or list(KIT)
        profile = random_profile(TABLE, rng, markers, sex=["female", "male", None][i % 3])
        raw = {m: list(g) for m, g in profile.genotypes.items()} | {
            m: list(v) for m, v in profile.other.items()
        }
        texts.append(_stored(raw))
    return texts


def test_every_canonical_text_is_decoded_as_stored_profile_reads_it():
    texts = _canonical_texts(np.random.default_rng(20261206), 300, 0.8)
    got = _decode(texts)
    assert all(g is not None for g in got)
    assert got == [_generic(t) for t in texts]


def test_anything_else_is_declined_or_read_the_same():
    base = _stored({"D3S1358": ["15", "16"], "vWA": ["14", "17"], "TH01": ["9.3", "10"], "AMEL": ["X", "Y"]})
    odd = [
        b"{}", b"", b"[]", b'{"D3S1358":["15","16"]', base + b" ", b" " + base,
        base.replace(b",", b", "), base.replace(b'"16"', b'"16","17"'), base.replace(b'["15","16"]', b'["15"]'),
        base.replace(b'"15"', b'"015"'), base.replace(b'"15"', b'"99"'), base.replace(b'"15"', b"15"),
        base.replace(b'"15"', b'"1\\u0035"'), base.replace(b"vWA", b"VWA"), base.replace(b"vWA", b"D3S1358"),
        base.replace(b'"X","Y"', b'"X","Y","Y"'), base.replace(b'"X","Y"', b""), base.replace(b'"X","Y"', b'"Y"'),
        base.replace(b"Amelogenin", b"DYS391"), b'{"Amelogenin":["X"]}', base.replace(b'"15"', b'"15\\""'),
        base.replace(b'"15"', b'"15\x00"'), base[:-1] + b',"D8S1179":["13","13"]}', base.replace(b"TH01", b"TH01 "),
    ]  # fmt: skip
    got = _decode(odd)
    for text, g in zip(odd, got, strict=True):
        assert g is None or g == _generic(text), text
    assert got[-2] == _generic(odd[-2]) and got[-2] is not None  # a homozygote written twice is canonical
    rng = np.random.default_rng(7)
    damaged = []
    for _ in range(2000):  # damaged bytes: never a wrong reading
        text = bytearray(base)
        for at in rng.integers(0, len(text), rng.integers(1, 3)).tolist():
            text[at] = int(rng.choice(list(b'":[],{}XY0123456789. \\')))
        damaged.append(bytes(text))
    for text, g in zip(damaged, _decode(damaged), strict=True):
        assert g is None or g == _generic(text), text


BASE = _stored({"D3S1358": ["15", "16"], "vWA": ["14", "17"], "TH01": ["9.3", "10"], "AMEL": ["X", "Y"]})
PIECES = [b'"D3S1358":["15","16"]', b'"vWA":["14","14"]', b'"Amelogenin":["X"]', b'"Amelogenin":["Y","X"]',
          b'"TH01":["9.3"]', b'"TH01":["10","9.3","8"]', b'"FGA":["99","20"]', b'"Y":["X","Y"]', b'"vWA":[]',
          b'"D8S1179":["13","13"]', b'"D21S11":["30.2","31"]']  # fmt: skip
TOKENS = [b'"', b":", b"[", b"]", b",", b"{", b"}", b" ", b"\\", b"\x00", b"X", b"Y", b"15", b"9.3", b"Amelogenin"]  # fmt: skip


@st.composite
def _texts(draw: st.DrawFn) -> bytes:
    """A text built of pieces (right or wrong), then perhaps cut, spliced or given stray bytes."""
    if draw(st.booleans()):
        text = b"{" + b",".join(draw(st.lists(st.sampled_from(PIECES), max_size=5))) + b"}"
    else:
        text = BASE
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        match draw(st.sampled_from(["insert", "delete", "replace"])):
            case "insert":
                text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
            case "delete":
                text = text[:at] + text[at + draw(st.integers(1, 4)) :]
            case _:
                text = text[:at] + draw(st.binary(min_size=1, max_size=2)) + text[at + 1 :]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_texts(), min_size=1, max_size=8))
def test_the_compiled_parser_is_the_numpy_reference(texts):
    _same_as_reference(texts)
    for text, g in zip(texts, _decode(texts), strict=True):
        assert g is None or g == _generic(text), text


def test_the_compiled_parser_on_every_truncation_and_an_empty_batch():
    texts = [BASE[:k] for k in range(len(BASE) + 1)] + [BASE[k:] for k in range(len(BASE))]
    _same_as_reference(texts)
    _same_as_reference([b""] * 3)
    empty = DECODER.decode(np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64))
    assert empty.codes.shape == (len(ENCODER.markers), 0) and not len(empty.ok)


def test_the_compiled_parser_on_damaged_canonical_texts():
    """Random profiles' stored texts with bytes replaced, removed or inserted: the reference's reading, always."""
    rng = np.random.default_rng(20261207)
    texts = []
    for text in _canonical_texts(rng, 4000, 0.7):
        for _ in range(int(rng.integers(0, 3))):
            at = int(rng.integers(0, len(text) + 1))
            match int(rng.integers(0, 4)):
                case 0:
                    text = (
                        text[:at]
                        + bytes([int(rng.choice(list(b'":[],{}XY0123456789.\x00')))])
                        + text[at + 1 :]
                    )
                case 1:
                    text = text[:at] + text[at + int(rng.integers(1, 6)) :]
                case 2:
                    text = text[:at] + TOKENS[int(rng.integers(0, len(TOKENS)))] + text[at:]
                case _:
                    text = text[:-1] + b"," + PIECES[int(rng.integers(0, len(PIECES)))] + b"}"
        texts.append(text)
    got = _decode(texts)
    assert 0 < sum(g is None for g in got) < len(texts)
    for text, g in zip(texts, got, strict=True):
        assert g is None or g == _generic(text), text
