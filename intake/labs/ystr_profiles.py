"""Store the Y-STR haplotype a lab typed from a male sample: checked by `matching.ystr`, encrypted, audited.

Only a male sample has a Y chromosome: a sample recorded female (its own sex, its role's, or a missing girl's)
or whose autosomal profile shows Amelogenin X alone is refused with the reason, since a Y haplotype there is a
swapped tube or a mixture. Only the Yfiler Plus kit's loci are accepted (`matching.ystr.loci`). The same
haplotype sent again is a retry (200, unchanged); a different one needs replace and a reason. A stored
haplotype queues a search of the sample's autosomal profile, so the matching worker attaches the lineage
evidence to that profile's candidates (`matching.service.lineage`). Callers own the transaction.

    check_haplotype(raw, kit, min_loci) -> Haplotype
    store_haplotype(session, sample, *, lab_id, actor, kit, haplotype, replace=False, reason=None) -> StoredY
    current_haplotype(session, sample) -> YHaplotype | None   read_haplotype(session, sample, *, lab_id, actor)
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.errors import ProfileRejectedError
from intake.labs.profiles import (
    check_uploader,
    current_profile,
    current_typing,
    lock_sample,
    read_typing,
    retire,
)
from intake.matches.queue import enqueue_search
from intake.models import DnaProfile, Sample, Sex, YHaplotype, audit
from intake.platform.i18n import N_
from intake.samples.fit import amelogenin_sex, recorded_sex
from matching.markers import fold
from matching.ystr.haplotype import (
    DEFAULT_MIN_LOCI,
    MAX_Y_REPEATS,
    Haplotype,
    HaplotypeError,
    digest,
    parse_haplotype,
)
from matching.ystr.loci import KIT

# What a lab reads for each refusal of `matching.ystr.haplotype`, by its code.
_REFUSALS = {
    "unknown_locus": N_("%(locus)s is not a Y-STR locus of the Yfiler Plus kit (27 loci, such as DYS19, "
                        "DYS385a/b, DYS389II or DYF387S1)."),
    "bad_allele": N_("Y locus %(locus)s: %(detail)s is not an allele (a repeat number such as 14 or 13.2)."),
    "implausible_allele": N_("Y locus %(locus)s: allele %(detail)s is not plausible (1 to %(most)s repeats). A "
                             "placeholder such as 0 is not an allele: leave the locus untyped."),
    "two_alleles": N_("Y locus %(locus)s has two alleles (%(detail)s) but one copy: a mixture or a "
                      "duplication, not stored."),
    "too_many_alleles": N_("Y locus %(locus)s has more than two alleles (%(detail)s): it has two copies, a and "
                           "b."),
    "locus_twice": N_("Y locus %(locus)s is typed twice (%(detail)s)."),
    "too_few_loci": N_("Only %(count)s Y-STR loci are typed; at least %(minimum)s are needed."),
    "bad_haplotype": N_("haplotype must be an object of Y loci and alleles, such as {\"DYS19\": \"14\"}."),
}  # fmt: skip


@dataclass(frozen=True)
class StoredY:
    """What `store_haplotype` did: "created", "unchanged" (an identical retry) or "replaced"."""

    haplotype: YHaplotype
    outcome: str


def _refusal(exc: HaplotypeError, min_loci: int) -> ProfileRejectedError:
    count = exc.detail.split(" ", 1)[0]
    return ProfileRejectedError(
        exc.code, _REFUSALS.get(exc.code, _REFUSALS["bad_haplotype"]), locus=exc.locus, detail=exc.detail,
        most=MAX_Y_REPEATS, count=count, minimum=min_loci,
    )  # fmt: skip


def check_haplotype(raw: Mapping[str, object], kit: str, min_loci: int = DEFAULT_MIN_LOCI) -> Haplotype:
    """Return the canonical haplotype, or raise ProfileRejectedError saying what to change."""
    if fold(kit.replace("®", "")) != fold(KIT):
        raise ProfileRejectedError(
            "kit_not_supported", N_("Y-STR haplotypes are accepted from the Yfiler Plus kit; %(kit)s is not "
                                    "supported yet."), kit=kit[:64],
        )  # fmt: skip
    try:
        return parse_haplotype(raw, min_loci)
    except HaplotypeError as exc:
        raise _refusal(exc, min_loci) from None


def _refuse_female(session: Session, sample: Sample) -> None:
    profile = current_profile(session, sample)
    shown = amelogenin_sex(profile.genotypes) if profile is not None else Sex.UNKNOWN
    if Sex.FEMALE in (recorded_sex(session, sample), shown):
        raise ProfileRejectedError(
            "female_sample", N_("Sample %(code)s is from a woman or girl (its record or its Amelogenin): she has "
                                "no Y chromosome, so a Y-STR haplotype for it is a swapped tube or a mixture. "
                                "Nothing is stored."), code=sample.code,
        )  # fmt: skip


def _profile_to_search(session: Session, sample: Sample) -> str | None:
    """Return the profile whose search refreshes the candidates this haplotype speaks for: the sample's own,
    else (a relative typed for Y only) any current profile of its case, whose search covers the whole case."""
    if sample.person_id is None or sample.case_id is None:
        return None
    own = current_profile(session, sample)
    if own is not None:
        return own.id
    query = (
        sa.select(DnaProfile.id)
        .join(Sample, Sample.id == DnaProfile.sample_id)
        .where(
            Sample.case_id == sample.case_id, Sample.person_id.is_not(None), DnaProfile.replaced_at.is_(None)
        )
        .order_by(DnaProfile.created_at, DnaProfile.id)
    )
    return session.scalars(query).first()


def current_haplotype(session: Session, sample: Sample) -> YHaplotype | None:
    """Return the sample's current (unreplaced) Y haplotype, if any."""
    return current_typing(session, YHaplotype, sample)


def read_haplotype(session: Session, sample: Sample, *, lab_id: int, actor: str) -> YHaplotype | None:
    """Return the sample's current haplotype if `lab_id` typed it (auditing the read), else None."""
    return read_typing(session, YHaplotype, sample, lab_id=lab_id, actor=actor, entity="y_haplotype")


def store_haplotype(
    session: Session,
    sample: Sample,
    *,
    lab_id: int,
    actor: str,
    kit: str,
    haplotype: Mapping[str, object],
    replace: bool = False,
    reason: str | None = None,
    min_loci: int = DEFAULT_MIN_LOCI,
) -> StoredY:
    """Store a Y haplotype for a male `sample` at `lab_id`, audit it and queue the search that uses it."""
    check_uploader(session, sample, lab_id)
    _refuse_female(session, sample)
    checked = check_haplotype(haplotype, kit, min_loci)
    key = digest(checked)
    lock_sample(session, sample)
    old = current_haplotype(session, sample)
    if old is not None and old.digest == key:
        audit(session, actor, "y_haplotype.upload", "y_haplotype", old.id, sample=sample.id, retry=True)
        return StoredY(old, "unchanged")
    if old is not None:
        retire(session, old, sample, replace=replace, reason=reason, conflict=N_(
            "Sample %(code)s already has a different Y-STR haplotype: send it with replace and a reason to "
            "replace it."
        ))  # fmt: skip
    row = YHaplotype(
        id=secrets.token_hex(16), sample_id=sample.id, lab_id=lab_id, kit=KIT,
        haplotype={k: list(v) for k, v in checked.items()}, loci=len(checked), digest=key, uploaded_by=actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    if old is not None:
        old.replaced_by_id = row.id
    action = "y_haplotype.upload" if old is None else "y_haplotype.replace"
    audit(session, actor, action, "y_haplotype", row.id, sample=sample.id, loci=row.loci,
          replaced=old.id if old else None, reason=reason)  # fmt: skip
    profile_id = _profile_to_search(session, sample)
    if profile_id is not None:
        enqueue_search(session, profile_id)  # the worker attaches the lineage evidence to its candidates
    return StoredY(row, "created" if old is None else "replaced")
