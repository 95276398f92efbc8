"""Exact per-marker likelihood of a small pedigree, with mutation and Balding-Nichols theta (pedprobr semantics).

Each person has two allele variables (paternal, maternal); a typed person's are tied to its genotype, an untyped
founder with one child keeps only the allele it passes on. A child's allele comes from one of its parent's two
alleles, chosen with probability 1/2, then mutated by M. All founder alleles, typed and untyped, are drawn jointly
by the Balding-Nichols (Polya urn) formula: the j-th draw is of type a with probability
(b theta + (1 - theta) p_a) / (1 + (j - 2) theta), b of the earlier draws being of type a.

To sum over untyped alleles under that joint law, the urn is expanded exactly over set partitions of the draws:
each draw either starts a new block (weight (1 - theta) p) or copies an earlier draw of its block (weight theta),
so P(x_1..x_m) = sum over partitions of prod_B (|B|-1)! theta^(m-r) (1-theta)^r / prod_j (1 + (j-2) theta)
prod_B p_B [all alleles of B equal], r the number of blocks. With theta = 0 only the all-singleton partition is
left and founders are independent. Each partition is then one tensor contraction (numpy einsum).

A person may also be typed with a `GenotypeBatch`: its genotype runs over a list of genotypes and the result gets
one axis per such person. The batch API uses that to tabulate LRs over every genotype a candidate can have.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.pedigree import Pedigree

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class GenotypeBatch:
    """A list of unordered genotypes as allele-index pairs (first[g], second[g])."""

    first: IntArray
    second: IntArray


Typing = tuple[int, int] | GenotypeBatch | None
_Fn = Callable[..., npt.NDArray[np.float64] | npt.NDArray[np.bool_]]


@dataclass
class _Model:
    """The variables and factors of one pedigree at one marker, before the founder draws are partitioned."""

    domains: list[IntArray]
    draws: list[int]
    distinct: set[frozenset[int]]
    factors: list[tuple[tuple[int, ...], _Fn]]
    outputs: list[int]
    # An untyped non-founder with one child keeps only the allele it passes on, which came from its father or its
    # mother (1/2 each): one pair of alternative factors per such person, summed outside the contraction.
    choices: list[tuple[tuple[tuple[int, ...], _Fn], ...]]

    def var(self, domain: IntArray) -> int:
        self.domains.append(domain)
        return len(self.domains) - 1


def pedigree_likelihood(
    pedigree: Pedigree,
    typing: Mapping[str, Typing],
    p: FloatArray,
    mutation: FloatArray | None = None,
    theta: float = 0.0,
) -> FloatArray:
    """Return the likelihood of the typed genotypes in the pedigree at one marker.

    `typing` maps a person to an allele-index pair, a GenotypeBatch or None (untyped; missing names are untyped).
    `p` are the allele frequencies, `mutation` the matrix M[from, to] (None: no mutation). The result is a 0-d
    array, or has one axis per batch-typed person in pedigree order.
    """
    model = _build(pedigree, typing, p, mutation)
    shape = tuple(len(model.domains[v]) for v in model.outputs)
    total = np.zeros(shape)
    m = len(model.draws)
    denominator = math.prod(1.0 + (j - 2) * theta for j in range(1, m + 1)) if m else 1.0
    for blocks in _partitions(model, theta):
        r = len(blocks)
        weight = math.prod(math.factorial(len(b) - 1) for b in blocks) * theta ** (m - r) * (1.0 - theta) ** r
        for chosen in itertools.product(*model.choices):
            total = total + (weight / denominator) * _contract(model, blocks, p, chosen)
    return total


def _build(
    pedigree: Pedigree, typing: Mapping[str, Typing], p: FloatArray, mutation: FloatArray | None
) -> _Model:
    n = len(p)
    everything = np.arange(n)
    model = _Model([], [], set(), [], [], [])
    slots: dict[str, list[int]] = {}
    for person in pedigree.persons:
        t = typing.get(person.name)
        n_children = len(pedigree.children(person.name))
        if t is None:
            own = [model.var(everything) for _ in range(2 if n_children >= 2 else n_children)]
        elif isinstance(t, GenotypeBatch):
            g = model.var(np.arange(len(t.first)))
            model.outputs.append(g)
            own = [model.var(everything), model.var(everything)]
            model.factors.append(((g, own[0], own[1]), _genotype_indicator(t)))
        else:
            a, b = t
            domain = np.array(sorted({a, b}))
            own = [model.var(domain), model.var(domain)]
            if a != b:
                model.distinct.add(frozenset(own))
                model.factors.append(((own[0], own[1]), np.not_equal))
        slots[person.name] = own
        if person.is_founder:
            model.draws.extend(own)
        elif len(own) == 2:
            assert person.father is not None and person.mother is not None
            for parent, allele in ((person.father, own[0]), (person.mother, own[1])):
                source = slots[parent]
                model.factors.append(((*source, allele), _transmission(len(source), mutation)))
        elif own:
            assert person.father is not None and person.mother is not None
            alternatives = []
            for parent in (person.father, person.mother):
                source = slots[parent]
                alternatives.append(((*source, own[0]), _transmission(len(source), mutation, 0.5)))
            model.choices.append(tuple(alternatives))
    return model


def _genotype_indicator(batch: GenotypeBatch) -> _Fn:
    first, second = batch.first, batch.second

    def indicator(g: IntArray, x: IntArray, y: IntArray) -> npt.NDArray[np.bool_]:
        a, b = first[g], second[g]
        same: npt.NDArray[np.bool_] = ((a == x) & (b == y)) | ((a == y) & (b == x))
        return same

    return indicator


def _transmission(n_slots: int, mutation: FloatArray | None, scale: float = 1.0) -> _Fn:
    """Return scale * P(child allele x | the parent's alleles): the mean over the parent's slots of M[slot, x]."""

    def one(s: IntArray, x: IntArray) -> FloatArray:
        return scale * ((s == x).astype(np.float64) if mutation is None else mutation[s, x])

    if n_slots == 1:
        return one

    def two(s1: IntArray, s2: IntArray, x: IntArray) -> FloatArray:
        return 0.5 * (one(s1, x) + one(s2, x))

    return two


def _partitions(model: _Model, theta: float) -> Iterator[list[list[int]]]:
    """Yield the set partitions of the founder draws that can have non-zero probability."""
    if theta == 0.0:
        yield [[v] for v in model.draws]
        return
    domains = model.domains

    def extend(i: int, blocks: list[list[int]], doms: list[IntArray]) -> Iterator[list[list[int]]]:
        if i == len(model.draws):
            yield [list(b) for b in blocks]
            return
        v = model.draws[i]
        for k, block in enumerate(blocks):
            if any(frozenset((v, w)) in model.distinct for w in block):
                continue
            common = np.intersect1d(doms[k], domains[v])
            if len(common) == 0:
                continue
            block.append(v)
            saved, doms[k] = doms[k], common
            yield from extend(i + 1, blocks, doms)
            doms[k] = saved
            block.pop()
        blocks.append([v])
        doms.append(domains[v])
        yield from extend(i + 1, blocks, doms)
        blocks.pop()
        doms.pop()

    yield from extend(0, [], [])


def _contract(
    model: _Model, blocks: list[list[int]], p: FloatArray, chosen: tuple[tuple[tuple[int, ...], _Fn], ...]
) -> FloatArray:
    """Return the sum over all allele variables, founder draws merged by `blocks`, of the product of factors."""
    rep = list(range(len(model.domains)))
    domains = list(model.domains)
    for block in blocks:
        common = domains[block[0]]
        for v in block[1:]:
            common = np.intersect1d(common, domains[v])
        for v in block:
            rep[v] = block[0]
        domains[block[0]] = common
    operands: list[Any] = []
    for block in blocks:
        operands += [p[domains[block[0]]], [block[0]]]
    for variables, fn in (*model.factors, *chosen):
        args = [rep[v] for v in variables]
        unique = list(dict.fromkeys(args))
        mesh = np.ix_(*[domains[u] for u in unique])
        values = fn(*[mesh[unique.index(a)] for a in args])
        shape = tuple(len(domains[u]) for u in unique)
        operands += [np.broadcast_to(np.asarray(values, dtype=np.float64), shape), unique]
    if not operands:
        return np.ones(())
    result = np.einsum(*operands, list(model.outputs), optimize=_path(operands, list(model.outputs)))
    return np.asarray(result, dtype=np.float64)


# numpy's greedy contraction order, found once per contraction shape: finding it took about a third of an exact
# per-pair LR (`einsum_path` on every marker of every pair); the same order gives the same result, bit for bit.
_PATHS: dict[tuple[object, ...], list[Any]] = {}


def _path(operands: list[Any], outputs: list[int]) -> list[Any]:
    key = tuple(tuple(op) if i % 2 else np.shape(op) for i, op in enumerate(operands)) + (tuple(outputs),)
    path = _PATHS.get(key)
    if path is None:
        if len(_PATHS) >= 65_536:
            _PATHS.clear()
        path = np.einsum_path(*operands, outputs, optimize="greedy")[0]
        _PATHS[key] = path
    return path
