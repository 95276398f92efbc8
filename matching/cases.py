"""The JSON form of a kinship case and of its result, as `reunite kinship-lr` reads and writes them (one per line).

In:  {"id": "...", "relationship": "duo", "persons": {ROLE: {MARKER: ["A1", "A2"]}},
      "mutation": null | {"model": "equal|proportional|stepwise", "rate": 0.005, "rate2": 1e-6, "range": 0.1},
      "theta": 0.0}   ("kappa": [k0, k1, k2] with "relationship": "kappa")
Out: {"id": "...", "lr": float, "log10_lr": float, "per_marker": {MARKER: float}, "inconsistent_markers": [...],
      "untyped_markers": [...]}   or   {"id": "...", "error": "reason"}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from matching.errors import CaseError, KinshipError
from matching.frequencies import FrequencyTable, MissingAllelePolicy
from matching.kinship import DEFAULT_POLICY, KinshipCase, KinshipResult, kinship_lr
from matching.mutation import MutationModel
from matching.profiles import parse_profile


def case_from_json(obj: object, table: FrequencyTable) -> KinshipCase:
    """Return the case of one decoded JSON object, or raise a KinshipError saying what is wrong."""
    if not isinstance(obj, Mapping):
        raise CaseError("a case is a JSON object with relationship and persons")
    persons = obj.get("persons")
    if not isinstance(persons, Mapping) or not persons:
        raise CaseError('"persons" must be an object {ROLE: {MARKER: [allele, allele]}}')
    theta = obj.get("theta", 0.0)
    if theta is None:
        theta = 0.0
    if isinstance(theta, bool) or not isinstance(theta, int | float):
        raise CaseError(f'"theta" must be a number, not {theta!r}')
    profiles = {}
    for role, raw in persons.items():
        if not isinstance(raw, Mapping):
            raise CaseError(f"person {role!r}: give a profile {{MARKER: [allele, allele]}}")
        profiles[str(role)] = parse_profile(raw, extra_markers=table.markers, who=str(role))
    return KinshipCase(
        relationship=str(obj.get("relationship")),
        persons=profiles,
        mutation=MutationModel.from_json(obj.get("mutation")),
        theta=float(theta),
        kappa=obj.get("kappa"),
    )


def result_to_json(case_id: object, result: KinshipResult) -> dict[str, Any]:
    """Return the output object of a computed case."""
    return {
        "id": case_id,
        "lr": result.lr,
        "log10_lr": result.log10_lr,
        "per_marker": result.per_marker,
        "inconsistent_markers": list(result.inconsistent_markers),
        "untyped_markers": list(result.untyped_markers),
    }


def run_lines(
    lines: Iterable[str], table: FrequencyTable, policy: MissingAllelePolicy = DEFAULT_POLICY
) -> Iterator[str]:
    """Yield one output JSON line per non-blank input line; a bad line yields {"id", "error"} and the rest go on."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        case_id: object = None
        try:
            obj = json.loads(line)
            if isinstance(obj, Mapping):
                case_id = obj.get("id")
            out = result_to_json(case_id, kinship_lr(case_from_json(obj, table), table, policy))
        except json.JSONDecodeError as exc:
            out = {"id": None, "error": f"line {number}: not JSON ({exc.msg})"}
        except KinshipError as exc:
            out = {"id": case_id, "error": str(exc)}
        yield json.dumps(out, ensure_ascii=False, allow_nan=True)
