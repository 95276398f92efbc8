"""Store the Y-STR haplotypes of a GeneMapper Genotypes Table exported from a Yfiler Plus run.

The file is read like an autosomal export (`intake.labs.genemapper`: Sample Name, Marker, Allele 1..N columns, any
of the encodings labs save in) and each sample is checked and stored like a JSON upload
(`intake.labs.ystr_profiles.store_haplotype`), in its own savepoint: one bad sample never stores half a haplotype
and never stops the others. A multi-copy locus arrives as one marker row with two alleles (DYS385, DYF387S1)
or as its a and b rows; an off-ladder call (`OL`) leaves that locus untyped and is named in the answer. A file
with no Yfiler Plus locus, or named with another kit, is refused whole.

    import_y_table(session, data, *, lab_id, actor, kit=None) -> list[SampleAnswer]
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.labs.genemapper import GenotypesTable, TableSample, read_genotypes_table
from intake.labs.genemapper_import import (
    ImportRefusedError,
    SampleAnswer,
    answer_samples,
    check_rows,
    panel_markers,
    sample_genotypes,
)
from intake.labs.ystr_profiles import store_haplotype
from intake.platform.i18n import N_
from intake.samples.custody import find_sample
from matching.markers import fold
from matching.ystr.loci import KIT, canonical_locus


def _is_y_locus(marker: str) -> bool:
    try:
        canonical_locus(marker)
    except KeyError:
        return False
    return True


def _check_file(table: GenotypesTable, kit: str | None) -> None:
    if kit and fold(kit) != fold(KIT):
        raise ImportRefusedError(
            "kit_not_supported", N_("Y-STR haplotypes are accepted from the Yfiler Plus kit; %(kit)s is not "
                                    "supported yet."), kit=kit[:64],
        )  # fmt: skip
    markers = {m for s in table.samples for m, _a in s.rows}
    if not any(_is_y_locus(m) for m in markers):
        raise ImportRefusedError(
            "no_y_markers", N_("The file has no Yfiler Plus Y-STR locus (its markers: %(markers)s). Send an "
                               "autosomal export to /imports/genemapper. Nothing is stored."),
            markers=", ".join(sorted(markers)[:6]) or "-",
        )  # fmt: skip


def import_y_table(
    session: Session, data: bytes, *, lab_id: int, actor: str, kit: str | None = None
) -> list[SampleAnswer]:
    """Store every sample of a Yfiler Plus export that can be stored; answer for every sample in it."""
    table = read_genotypes_table(data)
    _check_file(table, kit)
    panels = panel_markers(table, None)  # a sample lacking rows its panel's others have was cut

    def store(sample: TableSample, answer: SampleAnswer) -> None:
        check_rows(sample, panels[sample.panel])
        haplotype, answer.left_out = sample_genotypes(sample)
        stored = store_haplotype(session, find_sample(session, sample.code or ""), lab_id=lab_id, actor=actor,
                                 kit=KIT, haplotype=haplotype)  # fmt: skip
        answer.status = "unchanged" if stored.outcome == "unchanged" else "stored"
        answer.profile, answer.markers = stored.haplotype.id, stored.haplotype.loci

    return answer_samples(session, table, store, lab_id=lab_id, actor=actor, action="genemapper.import_y")
