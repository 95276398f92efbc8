"""Officers register a rescued child, or a child suspected of being kidnapped with the adults who claimed to be
the parents, through `intake.cases.found_children.register_found_child`; the samples are taken at a lab of their province.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from intake.cases.found_children import register_found_child
from intake.models import Lab, Officer, Role, SampleSource, Sex
from intake.places.scope import labs_clause
from intake.platform.errors import ReuniteError
from intake.platform.i18n import N_
from intake.web.console.app import bp, db, login_required, officer, render, t

SOURCES = {
    "rescued": SampleSource.RESCUED_CHILD,
    "suspected_kidnapped": SampleSource.SUSPECTED_KIDNAPPED_CHILD,
}
CLAIMED = {
    "claimed_mother": (Role.CLAIMED_MOTHER, Sex.FEMALE),
    "claimed_father": (Role.CLAIMED_FATHER, Sex.MALE),
}


class FormError(ValueError):
    """A field of the form that cannot be used; the message is a translated sentence."""


def _labs(me: Officer) -> list[Lab]:
    query = (
        sa.select(Lab).where(Lab.active.is_(True), labs_clause(me)).order_by(Lab.province, Lab.city, Lab.name)
    )
    return list(db().scalars(query))


def _form(labs: list[Lab]) -> dict[str, object]:
    form = request.form
    source = SOURCES.get(form.get("source", ""))
    if source is None:
        raise FormError(t(N_("Choose whether the child was rescued or is suspected of being kidnapped.")))
    try:
        sex = Sex(form.get("sex", ""))
    except ValueError:
        raise FormError(t(N_("Choose the child's sex."))) from None
    try:
        age = int(form.get("age", "").strip())
    except ValueError:
        raise FormError(t(N_("Give the child's estimated age in whole years."))) from None
    try:
        found_date = date.fromisoformat(form.get("found_date", "").strip())
    except ValueError:
        raise FormError(t(N_("Give the date the child was found as YYYY-MM-DD."))) from None
    lab_ids = {lab.id for lab in labs}
    try:
        lab_id = int(form.get("lab", ""))
    except ValueError:
        lab_id = -1
    if lab_id not in lab_ids:
        raise FormError(t(N_("Choose the lab of your province that will take the samples.")))
    claimed = [CLAIMED[key] for key in CLAIMED if form.get(key)]
    return {
        "source": source, "sex": sex, "age_years": age, "found_date": found_date, "lab_id": lab_id,
        "found_place": form.get("found_place", "")[:200], "description": form.get("description", "")[:2000] or None,
        "claimed_parents": claimed,
    }  # fmt: skip


@bp.get("/children/new")
@login_required
def register_form() -> ResponseReturnValue:
    return render("register.html", labs=_labs(officer()), form={})


@bp.post("/children/new")
@login_required
def register_child() -> ResponseReturnValue:
    s, me = db(), officer()
    labs = _labs(me)
    try:
        fields = _form(labs)
        registered = register_found_child(s, actor=me.actor, **fields)  # type: ignore[arg-type]
    except FormError as exc:
        return render("register.html", 400, labs=labs, form=request.form, error=str(exc))
    except ReuniteError as exc:
        s.rollback()
        return render("register.html", 400, labs=labs, form=request.form, error=t(exc.message, **exc.params))
    s.commit()
    codes = ", ".join(f"{who}: {code}" for who, code in registered.samples.items())
    flash(
        t(
            N_("Registered %(reference)s. Sample codes: %(codes)s"),
            reference=registered.case.reference,
            codes=codes,
        )
    )
    return redirect(url_for("console.case_page", reference=registered.case.reference))
