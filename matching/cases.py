"""The JSON form of a kinship case and of its result, as `reunite kinship-lr` reads and writes them (one per line).

In:  {"id": "...", "relationship": "duo", "persons": {ROLE: {MARKER: ["A1", "A2"]}},
      "mutation": null | {"model": "equal|proportional|stepwise", "rate": 0.005, "rate2": 1e-6, "range": 0.1},
      "theta": 0.0}   ("kappa": [k0, k1, k2] with "relationship": "kappa")
Out: {"id": "...", "lr": float, "log10_lr": float, "per_marker": {MARKER: float}, "inconsistent_markers": [...],
      "untyped_markers": [...], "imputed_alleles": {MARKER: [allele, ...]}}   or   {"id": "...", "error": "reason"}
Strict JSON both ways: NaN and Infinity are refused in and never written out (a zero LR has "log10_lr": null).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from matching.errors import CaseError, DuplicateMarkerError, KinshipError
from matching.frequencies import FrequencyTable, MissingAllelePolicy
from matching.kinship import DEFAULT_POLICY, KinshipCase, KinshipResult, kinship_lr
from matching.mutation import MutationModel
from matching.profiles import parse_profile
from matching.relationships import KAPPA, RELATIONSHIPS


class _Object(dict[str, Any]):
    """A decoded JSON object that remembers the keys it was given more than once (json keeps only the last)."""

    repeated: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for key, _ in pairs:
        if key in seen:
            repeated[key] = None
        seen.add(key)
    obj.repeated = tuple(repeated)
    return obj


class NotStrictJson(ValueError):
    """A line uses NaN or Infinity, which Python's json accepts and strict JSON does not."""


def _no_constant(name: str) -> None:
    raise NotStrictJson(f"{name} is not a number in JSON")


def loads(line: str) -> Any:
    """Return the decoded JSON of one line, remembering repeated keys; NaN and Infinity raise NotStrictJson."""
    return json.loads(line, object_pairs_hook=_object, parse_constant=_no_constant)


def _repeated(obj: Mapping[str, Any]) -> tuple[str, ...]:
    return getattr(obj, "repeated", ())


def case_from_json(obj: object, table: FrequencyTable) -> KinshipCase:
    """Return the case of one decoded JSON object, or raise a KinshipError saying what is wrong."""
    if not isinstance(obj, Mapping):
        raise CaseError("a case is a JSON object with relationship and persons")
    if _repeated(obj):
        raise CaseError(f"{', '.join(repr(k) for k in _repeated(obj))} given twice in the case; give it once")
    relationship = obj.get("relationship")
    if relationship is None or relationship == "":
        known = ", ".join([*RELATIONSHIPS, KAPPA])
        raise CaseError(f'the case has no "relationship": give one of {known}')
    persons = obj.get("persons")
    if not isinstance(persons, Mapping) or not persons:
        raise CaseError('"persons" must be an object {ROLE: {MARKER: [allele, allele]}}')
    if _repeated(persons):
        raise CaseError(f"person {_repeated(persons)[0]!r} is given twice; give each role once")
    theta = obj.get("theta", 0.0)
    if theta is None:
        theta = 0.0
    if isinstance(theta, bool) or not isinstance(theta, int | float):
        raise CaseError(f'"theta" must be a number, not {theta!r}')
    profiles = {}
    for role, raw in persons.items():
        if not isinstance(raw, Mapping):
            raise CaseError(f"person {role!r}: give a profile {{MARKER: [allele, allele]}}")
        if _repeated(raw):
            raise DuplicateMarkerError(_repeated(raw)[0], _repeated(raw)[:1] * 2)
        profiles[str(role)] = parse_profile(raw, table=table, who=str(role))
    return KinshipCase(
        relationship=str(relationship),
        persons=profiles,
        mutation=MutationModel.from_json(obj.get("mutation")),
        theta=float(theta),
        kappa=obj.get("kappa"),
    )


def result_to_json(case_id: object, result: KinshipResult) -> dict[str, Any]:
    """Return the output object of a computed case, every number finite (strict JSON).

    A zero LR (an exclusion without a mutation model) has "lr": 0 and "log10_lr": null, its log being minus
    infinity; an LR beyond the largest float (about 1.8e308) has "lr": null and its finite "log10_lr".
    """
    return {
        "id": case_id,
        "lr": result.lr if math.isfinite(result.lr) else None,
        "log10_lr": result.log10_lr if math.isfinite(result.log10_lr) else None,
        "per_marker": result.per_marker,
        "inconsistent_markers": list(result.inconsistent_markers),
        "untyped_markers": list(result.untyped_markers),
        "imputed_alleles": {m: list(a) for m, a in result.imputed_alleles.items()},
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
            obj = loads(line)
            if isinstance(obj, Mapping):
                case_id = obj.get("id")
            out = result_to_json(case_id, kinship_lr(case_from_json(obj, table), table, policy))
        except json.JSONDecodeError as exc:
            out = {"id": None, "error": f"line {number}: not JSON ({exc.msg})"}
        except KinshipError as exc:
            out = {"id": case_id, "error": str(exc)}
        except NotStrictJson as exc:
            out = {"id": None, "error": f"line {number}: not JSON ({exc})"}
        yield json.dumps(out, ensure_ascii=False, allow_nan=False)
