"""Shard 3 of the comparison of `reunite kinship-lr` with the brute-force reference (tests in reference_checks.py)."""

from tests.matching.reference_checks import *  # noqa: F403  the comparison's tests, run here on shard 3

SHARD = 3
