"""Joint pedigrees against separate units: recall and false candidates at 100,000 families, and search speed.

Part 1, recall (the recall benchmark's setting, `bench_recall.py`: the shipped table's 23 markers, allele
frequencies only from matching/data (see its CITATION.txt), stepwise mutation rate 0.002 in the model and in the
draws). For each one-parent shape with relatives, `--families` unrelated families of that shape and `--children`
planted children, each the missing child of one of them (its father the grandparents' son, its mother typed or
not), are scored against every family:

- before: separate units, as the service does today: the parent as a duo, each grandparent by the pairwise
  `grandparent` relationship; a family counts as a candidate when any unit reaches LR 10,000;
- after: the family's joint pedigree (`matching.shapes`, equal to `kinship_lr` on the pedigree).

It prints recall (own family at LR >= 10,000) and false candidates (unrelated pairs at LR >= 10,000) per search,
measured at --families and projected to 1,000,000 families (times 1,000,000 / families), and recall and false
candidates at the threshold a search of 1,000,000 families gets with `Settings.scale_threshold` (LR 10^8, so that
the bound 1/t allows 0.01 unrelated candidates per search).

Part 2, speed: one child against `--speed-families` families of mixed shapes (30% trio, 40% duo, 30% one parent
plus relatives), before (today's units: trio, duo, grandparent scans) and after (the same plus the joint scan of
the 30%), in the same run. Wall and CPU ms, median of --repeat runs.

    .venv/bin/python benchmarks/bench_pedigree.py [--families 100000] [--children 200] [--speed-families 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching import shapes  # noqa: E402
from matching.bands import SUPPORT_LR  # noqa: E402
from matching.batch import DuoScorer, GenotypeEncoding, TrioScorer  # noqa: E402
from matching.family_pedigree import Member  # noqa: E402
from matching.family_scan import PairScorer  # noqa: E402
from matching.frequencies import FrequencyTable  # noqa: E402
from matching.joint import joint_lr  # noqa: E402
from matching.search import DEFAULT_MUTATION  # noqa: E402
from matching.synthetic import IDENTIFILER, Config, Generator, encode, profile  # noqa: E402

THRESHOLD = float(np.log10(SUPPORT_LR))
# The candidate threshold of a search of 1,000,000 families with Settings.scale_threshold: compared / 0.01.
SCALED = 8.0
# Shapes of one-parent families with relatives (who is typed), and the units each is searched by today.
SHAPES: dict[str, tuple[str, ...]] = {
    "mother + both paternal grandparents": ("mother", "paternal_grandfather", "paternal_grandmother"),
    "mother + paternal grandfather": ("mother", "paternal_grandfather"),
    "both paternal grandparents + maternal grandmother": (
        "paternal_grandfather",
        "paternal_grandmother",
        "maternal_grandmother",
    ),  # fmt: skip
    "mother alone (duo, for reference)": ("mother",),
}


def draw_family(gen: Generator, n: int) -> dict[str, np.ndarray]:
    """Return n families' persons (allele indices, (n, markers, 2)) and their missing children."""
    gf, gm, mgf, mgm = (gen.founders(n) for _ in range(4))
    father, _ = gen.offspring(gf, gm, gen.config.mutation_rate)
    mother, _ = gen.offspring(mgf, mgm, gen.config.mutation_rate)
    child, _ = gen.offspring(father, mother, gen.config.mutation_rate)
    return {
        "paternal_grandfather": gf, "paternal_grandmother": gm, "maternal_grandfather": mgf,
        "maternal_grandmother": mgm, "father": father, "mother": mother, "child": child,
    }  # fmt: skip


def unit_scores(
    encoding: GenotypeEncoding, child_profile: object, codes: dict[str, np.ndarray], roles: tuple[str, ...]
) -> np.ndarray:
    """Return each family's best separate-unit log10 LR for one child (duo for a parent, pairwise grandparent)."""
    best = np.full(next(iter(codes.values())).shape[1], -np.inf)
    for role in roles:
        if role in ("mother", "father"):
            lr = DuoScorer(encoding, child_profile, DEFAULT_MUTATION).log10_lr(codes[role])  # type: ignore[arg-type]
        else:
            lr = PairScorer(encoding, "grandparent", child_profile, DEFAULT_MUTATION).log10_lr(codes[role])  # type: ignore[arg-type]
        best = np.maximum(best, lr)
    return best


def recall(
    table: FrequencyTable, encoding: GenotypeEncoding, families: int, children: int, seed: int
) -> None:
    print(f"\n## Recall and false candidates: {families:,} families per shape, {children} planted children")
    print(
        "| shape | kit | recall before (units) | after (pedigree) | false per search before | after |"
        " per search in 1,000,000 families: before | after | highest unrelated log10 LR: before | after |"
        " after, scaled threshold (LR 10^8): recall | false per search in 1,000,000 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for kit, markers in (("23", table.markers), ("15", IDENTIFILER)):
        typed = {m: m in markers for m in table.markers}
        for name, roles in SHAPES.items():
            gen = Generator(table, Config(families=1, children=1), seed=seed)
            start = time.perf_counter()
            planted = draw_family(gen, children)
            unrelated = draw_family(gen, families)
            # The planted families replace the first `children` unrelated ones: child i's own family is row i.
            persons = {r: np.concatenate([planted[r], unrelated[r][children:]]) for r in roles}
            codes = {r: encode(encoding, persons[r], typed) for r in roles}
            block, exact = shapes.slots(encoding, list(roles), [codes[r] for r in roles])
            assert exact.all()
            found = [0, 0, 0]
            false = [0, 0, 0]
            highest = [-np.inf, -np.inf]
            true_log10: list[float] = []
            for i in range(children):
                kid = profile(table, planted["child"][i], markers)
                before = unit_scores(encoding, kid, codes, roles)
                after = shapes.log10_lr(shapes.ChildVectors(encoding, kid, DEFAULT_MUTATION), block)
                for j, (lr, t) in enumerate(((before, THRESHOLD), (after, THRESHOLD), (after, SCALED))):
                    others = np.delete(lr, i)
                    found[j] += bool(lr[i] >= t)
                    false[j] += int(np.sum(others >= t))
                    if j < 2:
                        highest[j] = max(highest[j], float(others.max()))
                true_log10.append(float(after[i]))
                if i < 2:  # the scan is the exact joint LR: check a few against kinship_lr on the pedigree
                    family = {Member(r, r): profile(table, persons[r][i], markers) for r in roles}
                    exact_lr = joint_lr(kid, family, DEFAULT_MUTATION, 0.0, table)[1].log10_lr
                    assert abs(exact_lr - after[i]) <= 1e-9 * max(1.0, abs(exact_lr)), (exact_lr, after[i])
            scale = 1_000_000 / (families - 1)
            fb, fa = false[0] / children, false[1] / children
            print(
                f"| {name} | {kit} | {found[0] / children:.1%} | {found[1] / children:.1%} | {fb:.4f} | {fa:.4f} |"
                f" {fb * scale:.2f} | {fa * scale:.2f} | {highest[0]:.1f} | {highest[1]:.1f} |"
                f" {found[2] / children:.1%} | {false[2] / children * scale:.2f} |"
                f"  ({time.perf_counter() - start:.0f} s; true log10 LR median {statistics.median(true_log10):.1f},"
                f" min {min(true_log10):.1f})",
                flush=True,
            )


def _timed(fn: object, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        walls.append((time.perf_counter() - w) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def speed(table: FrequencyTable, encoding: GenotypeEncoding, n: int, repeat: int, seed: int) -> None:
    print(
        f"\n## Speed: one child against {n:,} families (30% trio, 40% duo, 30% mother + paternal grandparents)"
    )
    gen = Generator(table, Config(families=1, children=1), seed=seed)
    n_trio, n_duo = int(0.3 * n), int(0.4 * n)
    n_ped = n - n_trio - n_duo
    chunks: dict[str, list[np.ndarray]] = {}
    for start in range(0, n, 100_000):
        size = min(100_000, n - start)
        fam = draw_family(gen, size)
        for role in ("father", "mother", "paternal_grandfather", "paternal_grandmother"):
            chunks.setdefault(role, []).append(encode(encoding, fam[role]).astype(encoding.smallest_dtype))
    codes = {r: np.concatenate(c, axis=1) for r, c in chunks.items()}
    fathers, mothers = codes["father"][:, :n_trio], codes["mother"][:, :n_trio]
    single = np.concatenate(
        [codes["mother"][:, n_trio : n_trio + n_duo], codes["mother"][:, n_trio + n_duo :]], axis=1
    )
    gps = np.concatenate([codes["paternal_grandfather"][:, n_trio + n_duo :], codes["paternal_grandmother"][:, n_trio + n_duo :]], axis=1)  # fmt: skip
    roles = ["mother", "paternal_grandfather", "paternal_grandmother"]
    block, _ = shapes.slots(encoding, roles, [codes[r][:, n_trio + n_duo :] for r in roles])
    kid = profile(table, gen.founders(1)[0], table.markers)
    threshold = float(np.log10(2000.0)) - 1e-6  # the scans keep what reaches the inconclusive band

    def before() -> None:
        TrioScorer(encoding, kid, DEFAULT_MUTATION).above(fathers, mothers, threshold)
        DuoScorer(encoding, kid, DEFAULT_MUTATION).above(single, threshold)
        PairScorer(encoding, "grandparent", kid, DEFAULT_MUTATION).above(gps, threshold)

    def joint() -> None:
        shapes.above(shapes.ChildVectors(encoding, kid, DEFAULT_MUTATION), block, threshold)

    before()
    joint()  # compile and warm the caches
    wall_b, cpu_b = _timed(before, repeat)
    wall_j, cpu_j = _timed(joint, repeat)
    print("| search | wall ms | CPU ms |\n|---|---|---|")
    print(f"| before: units (trio {n_trio:,}, duo {n_duo + n_ped:,}, grandparents {2 * n_ped:,}) |"
          f" {wall_b:.0f} | {cpu_b:.0f} |")  # fmt: skip
    print(f"| joint scan of the {n_ped:,} pedigrees alone | {wall_j:.0f} | {cpu_j:.0f} |")
    print(f"| after: units + joint | {wall_b + wall_j:.0f} | {cpu_b + cpu_j:.0f} |")
    print(f"(slots: {block.nbytes / 1e6:.0f} MB for {n_ped:,} pedigrees)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--speed-families", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2112)
    parser.add_argument("--skip-recall", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    table = FrequencyTable.default()
    encoding = GenotypeEncoding(table)
    if not args.skip_speed:
        speed(table, encoding, args.speed_families, args.repeat, args.seed)
    if not args.skip_recall:
        recall(table, encoding, args.families, args.children, args.seed)


if __name__ == "__main__":
    main()
