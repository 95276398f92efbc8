"""The search's thresholds and default mutation model: what a search reports and how it scores parent-child steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from matching.bands import EXCLUDE_INCONSISTENT, EXCLUDE_LR, MIN_SHARED_MARKERS, SUPPORT_LR
from matching.mutation import MutationModel

# Default mutation model for parent-child steps, from Brinkmann B, Klintschar M, Neuhuber F, Huehne J, Rolf B (1998)
# "Mutation rate in human microsatellites: influence of the structure and length of the tandem repeat", Am J Hum
# Genet 62:1408-1415, doi:10.1086/301869: 23 mutations in 10,844 parent/child allelic transfers (2.1e-3 per locus
# per generation), 22 of them single-step; hence stepwise, rate 0.002, range 0.1 per extra repeat. The shipped
# frequency table's standard (GB/T 37223-2018, see matching/data/CITATION.txt) states no rate.
DEFAULT_MUTATION_RATE = 0.002
DEFAULT_MUTATION = MutationModel("stepwise", DEFAULT_MUTATION_RATE, rate2=1e-6, range=0.1)


@dataclass(frozen=True)
class SearchSettings:
    """The search's thresholds and model (defaults: the Chinese parentage standard's bands, `matching.bands`, and
    stepwise mutation). Named apart from `intake.config.Settings`, the service's configuration."""

    min_shared_markers: int = MIN_SHARED_MARKERS
    candidate_lr: float = SUPPORT_LR
    inconclusive_lr: float = 2_000.0
    exclude_inconsistent: int = EXCLUDE_INCONSISTENT
    exclude_lr: float = EXCLUDE_LR
    # With scale_threshold the candidate threshold is max(candidate_lr, compared / max_expected_unrelated): the
    # bound P(LR >= t | unrelated) <= 1/t then keeps the expected unrelated candidates per search at or below
    # max_expected_unrelated (Ge and Budowle 2012).
    scale_threshold: bool = False
    max_expected_unrelated: float = 0.01
    mutation: MutationModel | None = field(default=DEFAULT_MUTATION)
    theta: float = 0.0

    def __post_init__(self) -> None:
        if self.min_shared_markers < 1 or self.exclude_inconsistent < 1:
            raise ValueError("min_shared_markers and exclude_inconsistent must be at least 1")
        if not 0.0 < self.exclude_lr <= self.inconclusive_lr <= self.candidate_lr:
            raise ValueError("the thresholds must satisfy 0 < exclude_lr <= inconclusive_lr <= candidate_lr")
        if self.max_expected_unrelated <= 0.0 or not 0.0 <= self.theta < 1.0:
            raise ValueError("max_expected_unrelated must be positive and theta in [0, 1)")

    def candidate_threshold(self, compared: int) -> float:
        """Return the candidate LR threshold for a search that compared `compared` pairs (see scale_threshold)."""
        if not self.scale_threshold:
            return self.candidate_lr
        return max(self.candidate_lr, compared / self.max_expected_unrelated)
