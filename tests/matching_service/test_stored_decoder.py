"""The bulk decoder of stored genotypes (`matching.stored`) means exactly what `stored_profile` reads, or declines.

Every text it decodes gives the codes and Amelogenin of `stored_profile` + `Encoder.encode`; canonical texts (as
the intake stores them) are all decoded; anything else (spaces, escapes, unknown markers or alleles, a marker
twice, damaged bytes) is either declined or, if still a canonical text, read the same.
"""

from __future__ import annotations

import json

import numpy as np

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


def _decode(texts: list[bytes]) -> list[tuple[list[int], int] | None]:
    buffer = np.frombuffer(b"".join(texts), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    decoded = DECODER.decode(buffer, offsets)
    return [
        (decoded.codes[:, i].tolist(), int(decoded.amelogenin[i])) if decoded.ok[i] else None
        for i in range(len(texts))
    ]


def _stored(profile_dict: dict[str, list[str]]) -> bytes:
    """The text the intake stores (`EncryptedJSON` before sealing)."""
    return json.dumps(
        check_genotypes(profile_dict, min_markers=1).genotypes, ensure_ascii=False, separators=(",", ":")
    ).encode()


def test_every_canonical_text_is_decoded_as_stored_profile_reads_it():
    rng = np.random.default_rng(20261206)
    texts = []
    for i in range(300):
        markers = [m for m in KIT if rng.random() > 0.2] or list(KIT)
        profile = random_profile(TABLE, rng, markers, sex=["female", "male", None][i % 3])
        raw = {m: list(g) for m, g in profile.genotypes.items()} | {
            m: list(v) for m, v in profile.other.items()
        }
        texts.append(_stored(raw))
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
