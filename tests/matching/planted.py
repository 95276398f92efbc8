"""A population with planted relatives of every kind the matcher reports, for comparing the full re-match with
the profile-by-profile searches: trios, duos, full and half siblings, a grandparent, an aunt, a person sampled
twice (family side and child side), a sample mix-up, claimed parents (true and false), a 15-marker kit, and
unrelated families and children."""

from __future__ import annotations

import numpy as np

from matching.frequencies import FrequencyTable
from matching.profiles import Profile
from matching.search import Entry, Side
from matching.simulate import child_of, random_profile, restrict

IDENTIFILER = (
    "D8S1179", "D21S11", "D7S820", "CSF1PO", "D3S1358", "TH01", "D13S317", "D16S539", "D2S1338", "D19S433",
    "vWA", "TPOX", "D18S51", "D5S818", "FGA",
)  # fmt: skip


def planted_population(table: FrequencyTable, seed: int = 12, unrelated: int = 40) -> list[Entry]:
    """Return the entries of the population (profile ids p0, p1, ...; person ids unique unless sampled twice)."""
    rng = np.random.default_rng(seed)
    out: list[Entry] = []
    ident = iter(range(1, 10_000))

    def add(case: int, side: Side, role: str, profile: Profile, person: int | None = None) -> int:
        n = next(ident)
        out.append(Entry(f"p{n}", person if person is not None else n, case, side, role, "unknown", profile))
        return n

    def person() -> Profile:
        return random_profile(table, rng)

    case = iter(range(1, 10_000))
    # Trio: a couple and their found child; a second found child of the couple typed on 15 markers only.
    f, m = person(), person()
    c = next(case)
    add(c, Side.FAMILY, "father", f)
    add(c, Side.FAMILY, "mother", m)
    add(next(case), Side.CHILD, "child", child_of(f, m, rng))
    add(next(case), Side.CHILD, "child", restrict(child_of(f, m, rng), IDENTIFILER))
    # Duo: a mother alone and her child; a father alone and his child with one mutation.
    for role in ("mother", "father"):
        parent, other = person(), person()
        add(next(case), Side.FAMILY, role, parent)
        add(next(case), Side.CHILD, "child", child_of(parent, other, rng, 0.05, table=table))
    # Relatives of a found child: full sibling, half sibling, grandparent, aunt.
    for role, make in (
        ("full_sibling", "full"),
        ("half_sibling", "half"),
        ("grandparent", "grand"),
        ("aunt_uncle", "aunt"),
    ):
        a, b, x = person(), person(), person()
        kid = child_of(a, b, rng)
        if make == "full":
            relative = child_of(a, b, rng)
        elif make == "half":
            relative = child_of(a, x, rng)
        elif make == "grand":
            relative, spouse = person(), person()
            kid = child_of(child_of(relative, spouse, rng), x, rng)
        else:
            g1, g2 = person(), person()
            relative = child_of(g1, g2, rng)
            kid = child_of(child_of(g1, g2, rng), x, rng)
        add(next(case), Side.FAMILY, role, relative)
        add(next(case), Side.CHILD, "child", kid)
    # One person sampled twice on the family side (two cases), and a child sampled twice.
    twice = person()
    add(next(case), Side.FAMILY, "mother", twice, person=5000)
    add(next(case), Side.FAMILY, "mother", twice, person=5001)
    lost = person()
    add(next(case), Side.CHILD, "child", lost, person=5002)
    add(next(case), Side.CHILD, "child", restrict(lost, IDENTIFILER), person=5003)
    # A sample mix-up: a "father" whose profile is his child's.
    mixed = person()
    add(next(case), Side.FAMILY, "father", mixed)
    add(next(case), Side.CHILD, "child", mixed)
    # Claimed parents: a suspected-kidnapped child with its true claimed parents, and one with false ones.
    cf, cm = person(), person()
    c = next(case)
    add(c, Side.CHILD, "child", child_of(cf, cm, rng))
    add(c, Side.CLAIMED, "father", cf)
    add(c, Side.CLAIMED, "mother", cm)
    c = next(case)
    add(c, Side.CHILD, "child", person())
    add(c, Side.CLAIMED, "mother", person())
    # Unrelated families (couples and single parents, some on 15 markers) and children.
    for k in range(unrelated):
        c = next(case)
        add(c, Side.FAMILY, "father", person() if k % 3 else restrict(person(), IDENTIFILER))
        if k % 4:
            add(c, Side.FAMILY, "mother", person())
        add(next(case), Side.CHILD, "child", person())
    return out
