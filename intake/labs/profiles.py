"""Store the STR profile a lab typed from a sample: validated by the kinship engine's parser, linked, audited.

A profile is checked with `matching.profiles.parse_profile` (marker names folded by `matching.markers`), so the
lab API, the GeneMapper import and the matcher agree on what a marker and an allele are. The same profile sent
again is a retry and changes nothing; a different one is refused unless it replaces the old with a reason.
Callers own the transaction: on any error they roll back, so nothing is half-stored.

    check_genotypes(raw, min_markers=12) -> CheckedProfile
    store_profile(session, sample, *, lab_id, actor, kit, genotypes, replace=False, reason=None) -> Stored
    current_profile(session, sample) -> DnaProfile | None     read_profile(session, sample, *, actor) -> DnaProfile | None

The steps the Y-STR upload (`intake.labs.ystr_profiles`) shares with this one are here once: `check_uploader`
(the lab holds the sample, the consents are on record), `lock_sample`, `retire` (replace only with a reason),
`current_typing` and `read_typing`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.cases.consent import profile_consents_recorded
from intake.labs.errors import ProfileConflictError, ProfileRejectedError
from intake.labs.kits import (
    MAX_REPEATS,
    frequency_table,
    kit_markers,
    kit_name,
    known_marker,
    nearest_markers,
)
from intake.matches.queue import enqueue_search
from intake.models import CustodyEventType, DnaProfile, Sample, YHaplotype, audit, utcnow
from intake.platform.errors import ConsentRequiredError
from intake.platform.i18n import N_
from intake.samples.custody import append_event, require_lab
from intake.samples.fit import Notice, amelogenin_notice
from matching.alleles import plausible_repeats, tenths
from matching.errors import (
    AlleleFormatError,
    EmptyProfileError,
    ImplausibleAlleleError,
    ProfileError,
    TriallelicError,
    UnknownMarkerError,
)
from matching.markers import MarkerKind, normalise_marker
from matching.profiles import Profile, parse_profile

DEFAULT_MIN_MARKERS = 12
# What a lab typed from a sample: an STR profile or a Y haplotype (`intake.models.profiles.SampleTyping`).
Typed = TypeVar("Typed", DnaProfile, YHaplotype)
RawGenotypes = Mapping[str, Sequence[object] | str | None]


@dataclass(frozen=True)
class CheckedProfile:
    """A profile as it will be stored: canonical marker names and alleles, and a digest to compare retries."""

    genotypes: dict[str, list[str]]
    autosomal_markers: int
    digest: str


@dataclass(frozen=True)
class Stored:
    """What `store_profile` did: "created", "unchanged" (an identical retry) or "replaced", and what to check."""

    profile: DnaProfile
    outcome: str
    notices: tuple[Notice, ...] = ()


def _unknown_marker(name: str) -> ProfileRejectedError:
    near = nearest_markers(name)
    if near:
        return ProfileRejectedError(
            "unknown_marker", N_("Unknown marker %(marker)s: did you mean %(nearest)s? No profile is stored with a "
                                 "marker no kit types."), marker=name[:40], nearest=" / ".join(near))  # fmt: skip
    return ProfileRejectedError(
        "unknown_marker", N_("Unknown marker %(marker)s: use a standard STR name such as D8S1179, vWA or "
                             "Penta E."), marker=name[:40])  # fmt: skip


def _implausible(marker: str, allele: str) -> ProfileRejectedError:
    table = frequency_table()
    low, high = plausible_repeats(table.loci[marker].alleles) if marker in table.loci else (1, MAX_REPEATS)
    return ProfileRejectedError(
        "implausible_allele", N_("Marker %(marker)s: allele %(allele)s is not plausible (%(low)s to %(high)s "
                                 "repeats at this marker). A placeholder such as 0 or 99 is not an allele: leave "
                                 "the marker untyped, or check the typing."),
        marker=marker, allele=allele[:20], low=low, high=high,
    )  # fmt: skip


def _reject(exc: ProfileError) -> ProfileRejectedError:
    if isinstance(exc, UnknownMarkerError):
        return _unknown_marker(exc.marker)
    if isinstance(exc, ImplausibleAlleleError):
        return _implausible(exc.marker, exc.allele)
    if isinstance(exc, TriallelicError):
        return ProfileRejectedError(
            "possible_mixture", N_("Marker %(marker)s has more than two alleles (%(alleles)s): a possible "
                                   "mixture, not stored."), marker=exc.marker, alleles=", ".join(exc.alleles))  # fmt: skip
    if isinstance(exc, AlleleFormatError):
        return ProfileRejectedError(
            "bad_allele", N_("Marker %(marker)s: %(allele)s is not an STR allele (a repeat number such as 12, "
                             "9.3 or 30.2)."), marker=exc.marker, allele=str(exc.allele)[:20])  # fmt: skip
    if isinstance(exc, EmptyProfileError):
        return ProfileRejectedError("too_few_markers", N_("The profile has no typed STR marker."))
    return ProfileRejectedError("bad_profile", N_("The profile cannot be used: %(detail)s"), detail=str(exc))


def _check_markers(raw: RawGenotypes) -> None:
    seen: dict[str, str] = {}
    for name in raw if isinstance(raw, Mapping) else ():  # parse_profile refuses a non-mapping
        marker = normalise_marker(name)
        if marker.kind is MarkerKind.AUTOSOMAL and not known_marker(marker.name):
            raise _unknown_marker(name)  # shaped like a locus (D8S1197), but no kit types it
        if marker.name in seen:
            raise ProfileRejectedError(
                "marker_twice", N_("Marker %(marker)s is typed twice (%(first)s and %(second)s)."),
                marker=marker.name, first=seen[marker.name], second=name,
            )  # fmt: skip
        seen[marker.name] = name


def _check_outside_table(profile: Profile) -> None:
    # The table bounds its own markers (parse_profile with the table); the others get the ceiling of any STR.
    for marker, genotype in profile.genotypes.items():
        if marker not in frequency_table().loci:
            for allele in genotype:
                if tenths(allele) // 10 > MAX_REPEATS:
                    raise _implausible(marker, allele)


def _check_kit(kit: str | None, profile: Profile) -> None:
    expected = kit_markers(kit) if kit else None
    if expected is None or kit is None:
        return  # a kit we do not ship: its markers were checked against every kit's
    outside = sorted(set(profile.genotypes) - expected)
    if outside:
        raise ProfileRejectedError(
            "kit_mismatch", N_("The kit %(kit)s does not type %(markers)s: name the kit the profile was typed "
                               "with."), kit=kit_name(kit) or kit, markers=", ".join(outside),
        )  # fmt: skip


def _digest(genotypes: dict[str, list[str]]) -> str:
    # Amelogenin X and X,X are one female call: a retry that writes the other form is the same profile.
    same = genotypes | (
        {"Amelogenin": sorted(set(genotypes["Amelogenin"]))} if "Amelogenin" in genotypes else {}
    )
    return hashlib.sha256(json.dumps(same, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_genotypes(
    raw: RawGenotypes, min_markers: int = DEFAULT_MIN_MARKERS, kit: str | None = None
) -> CheckedProfile:
    """Return the canonical form of `raw` ({marker: [allele, allele]}), or raise ProfileRejectedError saying why.

    Every marker must be a real STR (a kit's, the engine's or the frequency table's), every allele plausible at
    its marker (the frequency table's range widened as the kinship input does), and, for a shipped kit named in
    `kit`, every marker one that kit types.
    """
    try:
        _check_markers(raw)
        profile = parse_profile(raw, table=frequency_table())
    except ProfileError as exc:
        raise _reject(exc) from None
    _check_outside_table(profile)
    _check_kit(kit, profile)
    if len(profile.genotypes) < min_markers:
        raise ProfileRejectedError(
            "too_few_markers", N_("Only %(count)s STR markers are typed; at least %(minimum)s are needed."),
            count=len(profile.genotypes), minimum=min_markers,
        )  # fmt: skip
    genotypes = {m: list(g) for m, g in profile.genotypes.items()} | {
        m: list(v) for m, v in profile.other.items()
    }
    return CheckedProfile(genotypes, len(profile.genotypes), _digest(genotypes))


def current_typing(session: Session, model: type[Typed], sample: Sample) -> Typed | None:
    """Return the sample's current (unreplaced) profile or haplotype (`model`), if any."""
    return session.scalars(
        sa.select(model).where(model.sample_id == sample.id, model.replaced_at.is_(None))
    ).first()


def read_typing(
    session: Session, model: type[Typed], sample: Sample, *, lab_id: int, actor: str, entity: str
) -> Typed | None:
    """Return the sample's current profile or haplotype if `lab_id` typed it (auditing the read as `entity`)."""
    row = current_typing(session, model, sample)
    if row is None or row.lab_id != lab_id:
        return None
    audit(session, actor, f"{entity}.read", entity, row.id, sample=sample.id)
    return row


def current_profile(session: Session, sample: Sample) -> DnaProfile | None:
    """Return the sample's current (unreplaced) profile, if any."""
    return current_typing(session, DnaProfile, sample)


def read_profile(session: Session, sample: Sample, *, lab_id: int, actor: str) -> DnaProfile | None:
    """Return the sample's current profile if `lab_id` typed it (auditing the read), else None."""
    return read_typing(session, DnaProfile, sample, lab_id=lab_id, actor=actor, entity="profile")


def check_uploader(session: Session, sample: Sample, lab_id: int) -> None:
    """Refuse what a lab typed from `sample` unless the lab holds the sample and the person's consents are on record."""
    require_lab(session, sample, lab_id)
    if not profile_consents_recorded(session, sample):
        raise ConsentRequiredError(
            N_("The person's consents are not on record: the profile cannot be stored.")
        )


def lock_sample(session: Session, sample: Sample) -> None:
    """Lock the sample's row, so two uploads for one sample are stored one after the other."""
    session.execute(sa.select(Sample.id).where(Sample.id == sample.id).with_for_update())


def retire(
    session: Session, old: Typed, sample: Sample, *, replace: bool, reason: str | None, conflict: str
) -> None:
    """Mark a sample's current profile or haplotype replaced, with the reason, before a different one is stored;
    refuse without `replace` (ProfileConflictError saying `conflict`) or without a reason."""
    if not replace:
        raise ProfileConflictError(conflict, code=sample.code)
    if not (reason or "").strip():
        raise ProfileRejectedError("reason_required", N_("Replacing a profile needs a reason."))
    old.replaced_at, old.replace_reason = utcnow(), reason
    session.flush()  # out of the one-current-per-sample index before the new one enters


def store_profile(
    session: Session,
    sample: Sample,
    *,
    lab_id: int,
    actor: str,
    kit: str,
    genotypes: RawGenotypes,
    replace: bool = False,
    reason: str | None = None,
    min_markers: int = DEFAULT_MIN_MARKERS,
) -> Stored:
    """Store a typed profile for `sample` at `lab_id`, link it to the sample's person and case, and audit it."""
    check_uploader(session, sample, lab_id)
    checked = check_genotypes(genotypes, min_markers, kit)
    notice = amelogenin_notice(session, sample, checked.genotypes)
    notices = (notice,) if notice else ()
    lock_sample(session, sample)
    old = current_profile(session, sample)
    # Compared on the stored genotypes too: a profile stored before Amelogenin X and X,X were one call.
    if old is not None and checked.digest in (old.digest, _digest(dict(old.genotypes))):
        audit(session, actor, "profile.upload", "profile", old.id, sample=sample.id, retry=True)
        return Stored(old, "unchanged", notices)
    if old is not None:
        retire(session, old, sample, replace=replace, reason=reason, conflict=N_(
            "Sample %(code)s already has a different profile: send it with replace and a reason to replace it."
        ))  # fmt: skip
    profile = DnaProfile(
        id=secrets.token_hex(16), sample_id=sample.id, lab_id=lab_id, kit=kit.strip()[:64] or "unknown",
        genotypes=checked.genotypes, autosomal_markers=checked.autosomal_markers, digest=checked.digest,
        uploaded_by=actor,
    )  # fmt: skip
    session.add(profile)
    session.flush()
    if old is None:
        append_event(
            session, sample, CustodyEventType.TYPED, actor=actor, lab_id=lab_id, profile_id=profile.id
        )
        audit(
            session,
            actor,
            "profile.upload",
            "profile",
            profile.id,
            sample=sample.id,
            markers=len(checked.genotypes),
        )
    else:
        old.replaced_by_id = profile.id
        append_event(
            session, sample, CustodyEventType.REPLACED, actor=actor, lab_id=lab_id, profile_id=profile.id,
            reason=reason,
        )  # fmt: skip
        audit(
            session,
            actor,
            "profile.replace",
            "profile",
            profile.id,
            sample=sample.id,
            replaced=old.id,
            reason=reason,
        )
    if sample.person_id is not None and sample.case_id is not None:
        enqueue_search(session, profile.id)  # in this transaction: searched if and only if it is stored
        audit(
            session,
            actor,
            "profile.link",
            "profile",
            profile.id,
            person=sample.person_id,
            case=sample.case_id,
        )
    return Stored(profile, "created" if old is None else "replaced", notices)
