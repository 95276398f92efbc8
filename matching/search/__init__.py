"""Who is compared with whom: the in-memory index of typed profiles and the search of one profile against it.

Pure computation (numpy and matching.*): the DB service maps its rows to `Entry`, keeps one `MatchIndex` in the
worker, and stores each `Comparison` as a candidate row and each `Flag` as a flag row. See docs/matching.md,
"Who is compared with whom". One concern per module:

- `entry`: `Entry` and `Side`, what the index knows of a profile;
- `settings`: `SearchSettings` (thresholds) and `DEFAULT_MUTATION`;
- `results`: `Comparison` (banded by `matching.bands`), `MarkerEvidence`, `Flag`, `FlagKind`, `SearchResult`;
- `sex`: the Amelogenin check;
- `units`: how a case's members form units (couples, single parents, relatives, children);
- `store`: `IndexStore`, the code pools by person slot (add, replace, remove, bulk build);
- `identity`: identical profiles (one person twice, or a mix-up);
- `scans`: the pruned child-side and family-side scans;
- `compare`: one pair recomputed exactly and banded;
- `claimed`: a child against the adults claiming to be its parents;
- `match_index`: `MatchIndex`, the store with its searches and the full re-match.

The names below are the package's public interface, importable from `matching.search`.
"""

from matching.search.entry import Entry, Side
from matching.search.match_index import MatchIndex
from matching.search.results import Comparison, Flag, FlagKind, MarkerEvidence, SearchResult
from matching.search.settings import DEFAULT_MUTATION, DEFAULT_MUTATION_RATE, SearchSettings
from matching.search.sex import sex_conflict

__all__ = [
    "DEFAULT_MUTATION",
    "DEFAULT_MUTATION_RATE",
    "Comparison",
    "Entry",
    "Flag",
    "FlagKind",
    "MarkerEvidence",
    "MatchIndex",
    "SearchResult",
    "SearchSettings",
    "Side",
    "sex_conflict",
]
