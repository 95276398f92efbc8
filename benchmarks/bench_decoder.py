"""The bulk decoder of stored genotypes: the compiled one-pass parser against the numpy reference, same run.

Makes N synthetic stored texts (as the intake stores them: compact JSON, canonical markers and alleles of the
shipped table's 23 markers, Amelogenin for two thirds), lays them end to end and decodes them in blocks of
`matching.service.bulk.BATCH` profiles (as the build from the database does), with `StoredDecoder.decode` (the
compiled parser, numba) and with `StoredDecoder._decode_numpy` (the numpy reference, the baseline). Both must give
the same arrays (checked) and decode every text. Times are CPU seconds of this process (`time.process_time`; the
machine is shared), the best of `--repeats`; the first call of the compiled parser (loading or compiling the
numba cache) is timed apart.

    .venv/bin/python benchmarks/bench_decoder.py [--profiles 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.frequencies import FrequencyTable  # noqa: E402
from matching.index import Encoder  # noqa: E402
from matching.service.bulk import BATCH  # noqa: E402
from matching.simulate import random_profiles  # noqa: E402
from matching.stored import Decoded, StoredDecoder  # noqa: E402

COMMAND = ".venv/bin/python benchmarks/bench_decoder.py"


def texts(table: FrequencyTable, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return n stored texts laid end to end and their offsets."""
    rng = np.random.default_rng(seed)
    sexes = ({}, {"Amelogenin": ["X", "X"]}, {"Amelogenin": ["X", "Y"]})
    raw = [
        json.dumps(
            {m: list(g) for m, g in p.genotypes.items()} | sexes[i % 3], separators=(",", ":")
        ).encode()
        for i, p in enumerate(random_profiles(table, rng, n))
    ]
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in raw])]).astype(np.int64)
    return np.frombuffer(b"".join(raw), dtype=np.uint8), offsets


def in_blocks(decode: Callable[..., Decoded], text: np.ndarray, offsets: np.ndarray) -> list[Decoded]:
    """Decode in blocks of BATCH profiles, each block's text and offsets starting at 0 (as `bulk` hands them)."""
    out = []
    for lo in range(0, len(offsets) - 1, BATCH):
        hi = min(lo + BATCH, len(offsets) - 1)
        block = offsets[lo : hi + 1]
        out.append(decode(text[block[0] : block[-1]], block - block[0]))
    return out


def best(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    table = FrequencyTable.default()
    decoder = StoredDecoder(Encoder(table))
    text, offsets = texts(table, args.profiles, args.seed)
    n = args.profiles
    print(f"{n:,} stored texts ({len(text) / n:.0f} bytes each), blocks of {BATCH:,}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    t0 = time.process_time()
    decoder.decode(text[: offsets[1]], offsets[:2])
    print(f"first call of the compiled parser (numba cache or compile): {time.process_time() - t0:.2f} s CPU")
    compiled, reference = (
        in_blocks(decoder.decode, text, offsets),
        in_blocks(decoder._decode_numpy, text, offsets),
    )
    for c, r in zip(compiled, reference, strict=True):
        assert c.ok.all() and r.ok.all(), "every synthetic text is canonical"
        assert np.array_equal(c.codes, r.codes) and np.array_equal(c.amelogenin, r.amelogenin)
    print("same codes, ok and Amelogenin from both; every text decoded")
    rows = []
    for name, fn in (("numpy reference (_decode_numpy), baseline", decoder._decode_numpy),
                     ("compiled parser (decode)", decoder.decode)):  # fmt: skip
        seconds = best(args.repeats, lambda fn=fn: in_blocks(fn, text, offsets))
        rows.append(seconds)
        print(
            f"{name:45s} {seconds:7.3f} s CPU  {seconds / n * 1e6:6.2f} us/profile  {n / seconds:12,.0f} profiles/s"
        )
    print(f"speed-up: {rows[0] / rows[1]:.1f}x   (best of {args.repeats}; {COMMAND} --profiles {n})")


if __name__ == "__main__":
    main()
