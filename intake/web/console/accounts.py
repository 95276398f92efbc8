"""Accounts in the console: the administrators' page (disable, enable, unlock, reset a password, change a role or
a province) and every officer's own password. Each change is audited by `intake.models.officers`."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from intake.models import Lab, Officer, OfficerRole, audit
from intake.models.officers import (
    change_own_password,
    locked_addresses,
    reset_password,
    set_active,
    set_role,
    unlock,
)
from intake.platform.errors import InputError, ReuniteError
from intake.platform.i18n import N_
from intake.web.console.app import bp, db, login_required, officer, render, roles_required, t
from intake.web.console.paging import paginate

ACTIONS = ("disable", "enable", "unlock", "reset_password", "set_role")


@bp.get("/officers")
@roles_required(OfficerRole.ADMIN)
def officers_page() -> ResponseReturnValue:
    s, me = db(), officer()
    paged = paginate(s, sa.select(Officer).order_by(Officer.username, Officer.id))
    locked = {o.id: locked_addresses(s, o.username) for o in paged.rows}
    audit(s, me.actor, "officer.list", "officer", None, shown=len(paged.rows))
    s.commit()
    provinces = list(s.scalars(sa.select(Lab.province).distinct().order_by(Lab.province)))
    return render("officers.html", officers=paged.rows, paged=paged, locked=locked, roles=list(OfficerRole),
                  provinces=provinces)  # fmt: skip


@bp.post("/officers/<int:officer_id>")
@roles_required(OfficerRole.ADMIN)
def change_officer(officer_id: int) -> ResponseReturnValue:
    s, me = db(), officer()
    account = s.get(Officer, officer_id)
    if account is None:
        abort(404)
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400, t(N_("There is no such change.")))
    if account.id == me.id and action in ("disable", "set_role"):
        flash(
            t(N_("You cannot disable your own account or change your own role: ask another administrator."))
        )
        return redirect(url_for("console.officers_page")), 303
    try:
        if action in ("disable", "enable"):
            set_active(s, account, action == "enable", me.actor)
            done = N_("%(username)s is enabled.") if action == "enable" else N_("%(username)s is disabled.")
        elif action == "unlock":
            unlock(s, account, me.actor)
            done = N_("%(username)s can log in again from every address.")
        elif action == "reset_password":
            new = request.form.get("password", "")
            if new != request.form.get("password_again", ""):
                raise InputError(N_("The two passwords differ."))
            reset_password(s, account, new, me.actor)
            done = N_("%(username)s has a new password; tell them in person or by phone, never by e-mail.")
        else:
            try:
                role = OfficerRole(request.form.get("role", ""))
            except ValueError:
                abort(400, t(N_("There is no such role.")))
            set_role(s, account, role, request.form.get("province"), me.actor)
            done = N_("%(username)s's role and province are changed.")
    except ReuniteError as exc:
        s.rollback()
        flash(t(exc.message, **exc.params))
        return redirect(url_for("console.officers_page")), 303
    s.commit()
    flash(t(done, username=account.username))
    return redirect(url_for("console.officers_page")), 303


@bp.get("/password")
@login_required
def password_form() -> ResponseReturnValue:
    return render("password.html")


@bp.post("/password")
@login_required
def change_password() -> ResponseReturnValue:
    s, me = db(), officer()
    new = request.form.get("new", "")
    if new != request.form.get("new_again", ""):
        return render("password.html", 400, error=t(N_("The two passwords differ.")))
    try:
        change_own_password(s, me, request.form.get("current", ""), new)
    except ReuniteError as exc:
        s.commit()  # a wrong current password is audited
        return render("password.html", 400, error=t(exc.message, **exc.params))
    s.commit()
    flash(t(N_("Your password is changed.")))
    return redirect(url_for("console.dashboard")), 303
