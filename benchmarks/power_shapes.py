"""The search power of a few family shapes at the shipped Chinese frequencies (`matching.power`).

For each shape, members are drawn at random (seeded) with the true relationships between them, and the power
of their search is simulated: the chance that the true child reaches the candidate band (LR >= 10,000, fewer than
3 inconsistent markers) and the expected unrelated candidates per 100,000 children compared. Figures depend on
the drawn genotypes; `--families` averages over several drawn families.

    .venv/bin/python benchmarks/power_shapes.py [--kit identifiler|all] [--families N] [--simulations N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from matching.family_pedigree import Member
from matching.frequencies import FrequencyTable
from matching.power import search_power
from matching.profiles import Profile
from matching.search import DEFAULT_MUTATION
from matching.simulate import child_of, random_profile

IDENTIFILER = ("D8S1179", "D21S11", "D7S820", "CSF1PO", "D3S1358", "TH01", "D13S317", "D16S539", "D2S1338",
               "D19S433", "vWA", "TPOX", "D18S51", "D5S818", "FGA")  # fmt: skip
SHAPES = (
    ("mother",),
    ("father", "mother"),
    ("mother", "full_sibling"),
    ("mother", "paternal_grandfather"),
    ("mother", "paternal_grandfather", "paternal_grandmother"),
    ("paternal_grandfather", "paternal_grandmother"),
)


def family(table: FrequencyTable, rng: np.random.Generator, shape: tuple[str, ...]) -> dict[Member, Profile]:
    """Draw a family with the true relationships: grandparents, their son the father, the mother, a sibling."""
    pgf, pgm, mother = (random_profile(table, rng) for _ in range(3))
    father = child_of(pgf, pgm, rng)
    people = {"paternal_grandfather": pgf, "paternal_grandmother": pgm, "father": father, "mother": mother,
              "full_sibling": child_of(father, mother, rng)}  # fmt: skip
    return {Member(f"m{i}", role): people[role] for i, role in enumerate(shape)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kit", choices=("identifiler", "all"), default="identifiler")
    parser.add_argument("--families", type=int, default=3)
    parser.add_argument("--simulations", type=int, default=10_000)
    args = parser.parse_args()
    full = FrequencyTable.default()
    markers = IDENTIFILER if args.kit == "identifiler" else full.markers
    table = FrequencyTable.from_loci([full.locus(m) for m in markers], source=f"{full.source} ({args.kit})")
    print(f"{len(markers)} markers, {args.simulations:,} simulations, mean of {args.families} drawn families")
    print(f"{'typed':<55} {'true child':>10} {'unrelated per 100,000':>22}")
    for shape in SHAPES:
        start = time.perf_counter()
        true, false = [], []
        for f in range(args.families):
            rng = np.random.default_rng([2026, f])
            report = search_power(family(table, rng, shape), table=table, mutation=DEFAULT_MUTATION,
                                  simulations=args.simulations, additions=[])  # fmt: skip
            true.append(report.today.true_rate)
            false.append(report.today.false_rate)
        took = time.perf_counter() - start
        print(
            f"{' + '.join(shape):<55} {np.mean(true):>10.2%} {np.mean(false) * 100_000:>22.3g}  ({took:.1f} s)"
        )


if __name__ == "__main__":
    main()
