"""Recall and false candidates on a synthetic population: planted true children against 100,000 families.

In memory, pure (`matching.synthetic` draws, `matching.batch` scores, `matching.bands` classifies). Each planted
child is the child of one family; it is scored against every family as a couple (trio, `TrioScorer`) and against
every father alone (duo, `DuoScorer`), with the stepwise mutation model (rate 0.002, the synthetic population's
own rate), on all 23 markers of the shipped table and on Identifiler's 15, without and with one single-step
mutation planted in every child (on an Identifiler marker, so both kits see it). For each condition it prints:

- recall: the share of planted children whose own family is in the candidate band (LR >= 10,000 and fewer than
  3 inconsistent markers);
- false candidates: the (child, unrelated family) pairs reaching that band, next to the bound
  P(LR >= t | unrelated) <= 1/t (so at most pairs / 10,000 are expected) and the empirical rate, with what that
  rate means for one search against 1,000,000 families;

and draws the log10 LR of true and unrelated pairs, trio and duo, to docs/img/matching-lr.png.

    make bench-recall   (or: .venv/bin/python benchmarks/bench_recall.py [--families 100000] [--children 200])
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.bands import EXCLUDE_INCONSISTENT, SUPPORT_LR  # noqa: E402
from matching.batch import DuoScorer, GenotypeEncoding, TrioScorer  # noqa: E402
from matching.frequencies import FrequencyTable, Locus  # noqa: E402
from matching.mutation import MutationModel  # noqa: E402
from matching.synthetic import IDENTIFILER, Config, Generator, encode, mendel_inconsistent, profile  # noqa: E402

COMMAND = (
    "make bench-recall   (or .venv/bin/python benchmarks/bench_recall.py --families 100000 --children 200)"
)
FIGURE = Path(__file__).resolve().parents[1] / "docs" / "img" / "matching-lr.png"
BINS = np.arange(-80.0, 40.25, 0.25)
TRUE_BINS = np.arange(-80.0, 41.0, 1.0)
THRESHOLD = float(np.log10(SUPPORT_LR))


@functools.cache
def _matrix(model: MutationModel, locus: Locus) -> np.ndarray:
    return MutationModel.matrix(model, locus)


class CachedMutation(MutationModel):
    """The same model; its matrices are computed once per locus instead of once per child (speed only)."""

    def matrix(self, locus: Locus) -> np.ndarray:
        return _matrix(self, locus)


@dataclass
class Condition:
    name: str
    relationship: str
    kit: str
    mutated: bool
    true_log10: list[float] = field(default_factory=list)
    found: int = 0
    pairs: int = 0
    false: int = 0
    false_max: float = -np.inf
    hist: np.ndarray = field(default_factory=lambda: np.zeros(len(BINS) - 1, dtype=np.int64))

    def add(self, lr: np.ndarray, own: int, inconsistent_of: Callable[[np.ndarray], np.ndarray]) -> None:
        true = float(lr[own])
        self.true_log10.append(true)
        others = np.delete(lr, own)
        self.pairs += others.size
        self.hist += np.histogram(np.clip(others, BINS[0], BINS[-1] - 1e-9), BINS)[0]
        above = np.flatnonzero(lr >= THRESHOLD)
        counts = inconsistent_of(above) if above.size else np.zeros(0)
        candidate = set(above[counts < EXCLUDE_INCONSISTENT].tolist())
        self.found += own in candidate
        false = candidate - {own}
        self.false += len(false)
        if false:
            self.false_max = max(self.false_max, float(lr[list(false)].max()))


def _inconsistent(
    child: np.ndarray, fathers: np.ndarray, mothers: np.ndarray | None, columns: list[int]
) -> np.ndarray:
    """Return the number of Mendel-inconsistent markers (of `columns`) of one child with each candidate."""
    children = np.broadcast_to(child, fathers.shape)
    flags = mendel_inconsistent(children, fathers, mothers)
    return np.asarray(flags[:, columns].sum(axis=1))


def run(families: int, children: int, seed: int, figure: Path | None) -> list[Condition]:
    table = FrequencyTable.default()
    enc = GenotypeEncoding(table)
    gen = Generator(
        table, Config(families=families, children=children, true_share=1.0, one_parent_share=0.0,
                      relative_share=0.0, mutation_rate=0.0), seed=seed, chunk=max(families, 1),
    )  # fmt: skip
    (fam,) = list(gen.families())  # one chunk holds every family
    (found,) = list(gen.found())
    own = found.family
    mutation = CachedMutation("stepwise", 0.002)
    kit15 = {m: m in IDENTIFILER for m in table.markers}
    codes = {
        "23": (encode(enc, fam.father), encode(enc, fam.mother)),
        "15": (encode(enc, fam.father, kit15), encode(enc, fam.mother, kit15)),
    }
    kit_columns = {"23": list(range(len(table.markers))), "15": [table.markers.index(m) for m in IDENTIFILER]}
    mutated_children = found.genotypes.copy()
    gen.force_one_mutation(mutated_children, [table.markers.index(m) for m in IDENTIFILER])
    conditions = {
        (rel, kit, mut): Condition(f"{rel} {kit} markers{', 1 mutation' if mut else ''}", rel, kit, mut)
        for rel in ("trio", "duo") for kit in ("23", "15") for mut in (False, True)
    }  # fmt: skip
    started = time.perf_counter()
    for i in range(children):
        for mut, genotypes in ((False, found.genotypes), (True, mutated_children)):
            child = profile(table, genotypes[i], table.markers)
            trio = TrioScorer(enc, child, mutation=mutation)
            duo = DuoScorer(enc, child, mutation=mutation)
            for kit, (fathers, mothers) in codes.items():
                cols = kit_columns[kit]
                conditions[("trio", kit, mut)].add(
                    trio.log10_lr(fathers, mothers), int(own[i]),
                    lambda idx, g=genotypes[i], c=cols: _inconsistent(g, fam.father[idx], fam.mother[idx], c),
                )  # fmt: skip
                conditions[("duo", kit, mut)].add(
                    duo.log10_lr(fathers), int(own[i]),
                    lambda idx, g=genotypes[i], c=cols: _inconsistent(g, fam.father[idx], None, c),
                )  # fmt: skip
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{children} children scored ({time.perf_counter() - started:.0f} s)", flush=True)
    out = list(conditions.values())
    if figure is not None:
        draw(out, families, children, figure)
    return out


def report(conditions: list[Condition], families: int, children: int, seconds: float) -> str:
    lines = [
        f"Recall and false candidates: {children} planted children against {families:,} synthetic families "
        f"(shipped Chinese table, stepwise mutation model rate 0.002, candidate band LR >= {SUPPORT_LR:,.0f} "
        f"and < {EXCLUDE_INCONSISTENT} inconsistent markers); duo = the child against every father alone.",
        "",
        "| condition | recall | true log10 LR median (min) | unrelated pairs | false candidates | bound pairs/10^4"
        " | empirical rate | expected per search in 1M families |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in conditions:
        true = np.array(c.true_log10)
        if c.false:
            rate = c.false / c.pairs
            observed, per_million = f"{rate:.1e}", f"{rate * 1e6:.2f}"
        else:  # none seen: the 95% upper limit (rule of three)
            observed, per_million = f"0 (< {3.0 / c.pairs:.0e})", f"< {3e6 / c.pairs:.2f}"
        lines.append(
            f"| {c.name} | {c.found / len(true):.1%} ({c.found}/{len(true)}) | {np.median(true):.1f} "
            f"({true.min():.1f}) | {c.pairs:,} | {c.false:,} | {c.pairs / SUPPORT_LR:,.0f} | {observed} "
            f"| {per_million} |"
        )
    lines += ["", f"{seconds:.0f} s on this machine. Reproduce: {COMMAND}"]
    return "\n".join(lines)


def draw(conditions: list[Condition], families: int, children: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    centres = (BINS[:-1] + BINS[1:]) / 2
    width = BINS[1] - BINS[0]
    for ax, rel in zip(axes, ("trio", "duo"), strict=True):
        for c in conditions:
            if c.relationship != rel or c.mutated:
                continue
            style = "-" if c.kit == "23" else "--"
            density = c.hist / max(c.hist.sum(), 1) / width
            ax.plot(centres, np.where(density > 0, density, np.nan), style, color="tab:gray",
                    label=f"unrelated, {c.kit} markers ({c.pairs:,} pairs)")  # fmt: skip
            true_hist = np.histogram(c.true_log10, TRUE_BINS)[0]
            ax.stairs(true_hist / max(true_hist.sum(), 1), TRUE_BINS, linestyle=style, color="tab:red",
                      label=f"true, {c.kit} markers ({len(c.true_log10)} children)")  # fmt: skip
        ax.axvline(THRESHOLD, color="black", lw=1)
        ax.text(
            THRESHOLD + 0.3, 0.5, "LR 10,000", rotation=90, va="center", transform=ax.get_xaxis_transform()
        )
        ax.set_yscale("log")
        ax.set_xlim(-60 if rel == "trio" else -30, 30 if rel == "trio" else 15)
        ax.set_xlabel("log10 LR")
        ax.set_title(f"{rel}: child against {'couples' if rel == 'trio' else 'alleged fathers'}")
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("share per unit of log10 LR (log scale)")
    fig.suptitle(f"log10 LR of true and unrelated pairs: {children} children, {families:,} synthetic families",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--children", type=int, default=200, help="planted true children per condition")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--figure", type=Path, default=FIGURE, help="where to draw (default docs/img/matching-lr.png)"
    )
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    conditions = run(args.families, args.children, args.seed, None if args.no_figure else args.figure)
    print(report(conditions, args.families, args.children, time.perf_counter() - started))
    if not args.no_figure:
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
