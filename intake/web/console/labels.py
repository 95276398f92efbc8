"""Words for the codes the database stores, so that no page shows a raw code (`awaiting_review`, `trio_couple`).

    label(code) -> str        the reader's words for a stored code (a status, a role, a band, a flag kind...)

A code not listed here (a flag kind added later, say) is written as words ("likely duplicate report"), never
with underscores.
"""

from __future__ import annotations

from intake.platform.i18n import N_

LABELS: dict[str, str] = {
    # case status
    "open": N_("reported"), "sampling_booked": N_("sampling booked"), "sampled": N_("sample collected"),
    "profiled": N_("typed"), "candidate_match": N_("candidate under review"), "family_told": N_("family told"),
    "reunited": N_("closed: reunited"), "closed": N_("closed"), "withdrawn": N_("closed: withdrawn"),
    # kinds, sources, sexes
    "missing_child": N_("missing child"), "found_child": N_("found child"), "female": N_("female"),
    "male": N_("male"), "unknown": N_("unknown"),
    "confirmed_missing_parent": N_("parent of a child confirmed missing (source 1)"),
    "reporting_parent": N_("parent reporting a missing child (source 2)"),
    "rescued_child": N_("rescued child (source 3)"),
    "suspected_kidnapped_child": N_("child suspected of being kidnapped (source 4)"),
    "unknown_identity_child": N_("child of unknown identity (source 5)"),
    # samples, appointments, custody
    "awaiting_collection": N_("awaiting collection"), "collected": N_("collected"), "rejected": N_("rejected"),
    "cancelled": N_("cancelled"), "booked": N_("booked"), "attended": N_("attended"), "no_show": N_("did not come"),
    "received": N_("received at the lab"), "typed": N_("typed"), "replaced": N_("replaced"),
    "destroyed": N_("destroyed"), "transferred": N_("transferred"),
    # persons
    "mother": N_("mother"), "father": N_("father"), "other_relative": N_("other relative"),
    "volunteer": N_("volunteer"), "child": N_("child"), "full_sibling": N_("brother or sister"),
    "half_sibling": N_("half-brother or half-sister"), "grandparent": N_("grandparent"),
    "aunt_uncle": N_("aunt or uncle"), "claimed_mother": N_("woman who said she is the mother"),
    "claimed_father": N_("man who said he is the father"),
    "paternal_grandfather": N_("father's father"), "paternal_grandmother": N_("father's mother"),
    "maternal_grandfather": N_("mother's father"), "maternal_grandmother": N_("mother's mother"),
    "paternal_aunt_uncle": N_("father's brother or sister"), "maternal_aunt_uncle": N_("mother's brother or sister"),
    "paternal_half_sibling": N_("half-brother or half-sister, same father"),
    "maternal_half_sibling": N_("half-brother or half-sister, same mother"),
    # consent
    "dna_sampling": N_("DNA sampling"), "data_processing": N_("keeping the details"),
    "granted": N_("agreed"), "refused": N_("refused"), "consent_withdrawn": N_("withdrawn"),
    # channels and accounts
    "sms": N_("SMS"), "telegram": N_("Telegram"), "terminal": N_("terminal"), "officer": N_("officer"),
    "supervisor": N_("supervisor"), "admin": N_("administrator"),
    # candidates: review states, bands, decisions, relationships
    "new": N_("awaiting review"), "awaiting_review": N_("awaiting review"),
    "rejection_proposed": N_("rejection proposed: a second person must agree"), "confirmed": N_("confirmed"),
    "approved": N_("approved: family told"), "more_evidence": N_("more evidence asked"),
    "superseded": N_("superseded"), "candidate": N_("strong candidate"), "inconclusive": N_("inconclusive"),
    "excluded": N_("excluded"), "not_enough_markers": N_("too few markers"), "confirm": N_("confirm"),
    "reject": N_("reject"), "approve": N_("approve"), "wish": N_("found person's wish"), "reopen": N_("reopen"),
    "duo": N_("one parent and the child"), "mother_duo": N_("mother and child"), "father_duo": N_("father and child"),
    "trio_couple": N_("both parents and the child"),
    "trio_known_mother": N_("mother, alleged father and child"), "full_siblings": N_("brothers or sisters"),
    "half_siblings": N_("half-brothers or half-sisters"), "avuncular": N_("aunt or uncle and the child"),
    "first_cousins": N_("first cousins"), "identity": N_("the same person"),
    "pedigree": N_("the family's typed relatives together and the child"),
    # flags
    "sex_mismatch": N_("sex mix-up"), "same_person": N_("one person sampled twice"),
    "sample_mixup": N_("possible sample mix-up"), "claimed_parents_excluded": N_("claimed parents excluded"),
    "likely_duplicate_report": N_("likely duplicate report"),
}  # fmt: skip


def label_msgid(code: object) -> str:
    """Return the msgid that names `code` (a code without one: its words, underscores made spaces)."""
    text = str(getattr(code, "value", code))
    return LABELS.get(text, text.replace("_", " "))
