"""Candidate matches: the review queue, the candidate page with its per-marker evidence and chart, the flags of
the matching service, and the officers' decisions (`intake.matches.reviews`: an officer confirms, a different supervisor
approves; a rejected candidate tells no one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session, aliased

from intake.matches.queue import resolve_flag
from intake.matches.reviews import decide, found_person_age, needs_own_wish, rejection_proposer, review_of
from intake.models import (
    Candidate,
    CandidateDecision,
    CandidateReview,
    CandidateStatus,
    Case,
    DecisionKind,
    Lab,
    LineageEvidence,
    MatchFlag,
    Officer,
    ReviewState,
    Sample,
    SampleLink,
    audit,
)
from intake.places.scope import candidates_clause, flags_clause, in_province
from intake.platform.errors import ReuniteError
from intake.platform.i18n import CHINESE, N_
from intake.web.console.access import require_candidate, require_flag
from intake.web.console.app import bp, db, label, language, login_required, officer, render, t
from intake.web.console.evidence import audit_profiles_shown, evidence_columns
from intake.web.console.lineage import lineage_of, rank_lr
from intake.web.console.paging import paginate
from matching.bands import Band

BANDS = tuple(band.value for band in Band)
MEANINGS = {
    Band.CANDIDATE.value: N_(
        "The DNA strongly supports the relationship: it is at least 10,000 times more likely if they are"
        " related than if they are not. Still check both cases before anyone is told."
    ),
    Band.INCONCLUSIVE.value: N_(
        "The DNA neither supports nor excludes the relationship: ask for more markers or another relative."
    ),
    Band.EXCLUDED.value: N_("The DNA excludes the relationship."),
    Band.NOT_ENOUGH_MARKERS.value: N_("Too few markers were typed on both sides to say anything."),
}
STATES = [s.value for s in ReviewState] + [CandidateStatus.SUPERSEDED.value, CandidateStatus.WITHDRAWN.value]
STATE_LABELS = (
    N_("awaiting_review"), N_("confirmed"), N_("approved"), N_("more_evidence"), N_("superseded"),
    N_("candidate"), N_("inconclusive"), N_("excluded"), N_("not_enough_markers"), N_("sex_mismatch"),
    N_("same_person"), N_("sample_mixup"), N_("claimed_parents_excluded"), N_("confirm"), N_("reject"),
    N_("approve"), N_("wish"), N_("flag open"), N_("flag resolved"),
)  # fmt: skip
CHART_WIDTH, CHART_ROW, LABEL_WIDTH, SCALE_MAX = 640, 18, 110, 3.0  # bars from -3 to +3 in log10 LR


def _state_column() -> Any:
    # Compared and shown as plain strings: the two enumerations share one column here.
    text = sa.String(32)
    return sa.type_coerce(
        sa.case(
            (Candidate.status != CandidateStatus.NEW, sa.type_coerce(Candidate.status, text)),
            else_=sa.func.coalesce(
                sa.type_coerce(CandidateReview.state, text), ReviewState.AWAITING_REVIEW.value
            ),
        ),
        text,
    )


@bp.get("/candidates")
@login_required
def candidates() -> ResponseReturnValue:
    s, me = db(), officer()
    chosen = {k: request.args.get(k, "").strip()[:64] for k in ("province", "band", "status", "q")}
    if chosen["band"] and chosen["band"] not in BANDS:
        abort(400, f"unknown band {chosen['band'][:32]!r}")
    if chosen["status"] and chosen["status"] not in STATES:
        abort(400, f"unknown status {chosen['status'][:32]!r}")
    state = _state_column().label("state")
    query = (
        sa.select(Candidate, state)
        .outerjoin(CandidateReview, CandidateReview.candidate_id == Candidate.id)
        .outerjoin(LineageEvidence, LineageEvidence.candidate_id == Candidate.id)
    )
    query = query.where(candidates_clause(me))
    if chosen["province"]:
        query = query.where(
            sa.or_(in_province(chosen["province"], Candidate.child_case_id),
                   in_province(chosen["province"], Candidate.family_case_id))
        )  # fmt: skip
    if chosen["band"]:
        query = query.where(Candidate.band == chosen["band"])
    if chosen["status"]:
        query = query.where(state == chosen["status"])
    if chosen["q"]:  # a case reference of either side
        case = sa.select(Case.id).where(Case.reference == chosen["q"].upper())
        query = query.where(sa.or_(Candidate.child_case_id.in_(case), Candidate.family_case_id.in_(case)))
    query = query.order_by(rank_lr().desc().nulls_last(), Candidate.created_at.desc(), Candidate.id.desc())
    paged = paginate(s, query, scalars=False)
    rows = paged.rows
    refs = _references([c.child_case_id for c, _ in rows] + [c.family_case_id for c, _ in rows])
    audit(s, me.actor, "candidate.list", "candidate", None, shown=len(rows), total=paged.total)
    s.commit()
    provinces = sorted(set(s.scalars(sa.select(Lab.province).distinct())))
    return render(
        "candidates.html", rows=rows, refs=refs, chosen=chosen, bands=BANDS, states=STATES, provinces=provinces,
        lr=combined_lr, paged=paged, lr_words=lambda x: lr_in_words(x, language()),
    )  # fmt: skip


def _references(case_ids: list[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    rows = db().execute(sa.select(Case.id, Case.reference).where(Case.id.in_(case_ids)))
    return {case_id: reference for case_id, reference in rows}


EN_SCALE = ((18, "quintillion"), (15, "quadrillion"), (12, "trillion"), (9, "billion"), (6, "million"))
ZH_SCALE = ((16, "亿亿"), (12, "万亿"), (8, "亿"), (4, "万"))


def big_number(log10: float, lang: str) -> str:
    """Write 10**log10 in words of the reader's language: "58 quadrillion", "5.8亿亿"; beyond the words, 10^n."""
    for exponent, word in ZH_SCALE if lang == CHINESE else EN_SCALE:
        if log10 >= exponent:
            amount = 10 ** (log10 - exponent)
            if amount >= 10_000:
                return f"10^{math.floor(log10)}"
            shown = f"{amount:,.0f}" if amount >= 10 else f"{amount:.2g}"
            return f"{shown}{word}" if lang == CHINESE else f"{shown} {word}"
    return f"{10**log10:,.0f}"


def lr_in_words(log10_lr: float | None, lang: str) -> str:
    """Say what a combined LR means: "About 1 in 58 quadrillion unrelated families would fit this well."."""
    if log10_lr is None:
        return t(N_("The DNA excludes this relationship: a related family could not show these types."))
    if log10_lr < 0.3:
        return t(
            N_(
                "Unrelated families fit these types at least as well: the DNA does not support the relationship."
            )
        )
    return t(N_("About 1 in %(n)s unrelated families would fit this well."), n=big_number(log10_lr, lang))


def combined_lr(log10_lr: float | None) -> str:
    """Write a combined LR for people: "0" for an exclusion, plain below a million, else "3.2 × 10^7"."""
    if log10_lr is None:
        return "0"
    if log10_lr < 6:
        value = 10**log10_lr
        return f"{value:,.0f}" if value >= 10 else f"{value:.3g}"
    exponent = math.floor(log10_lr)
    return f"{10 ** (log10_lr - exponent):.1f} × 10^{exponent}"


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


def ticks() -> list[Tick]:
    """The chart's scale: the per-marker LR at each power of ten from 1/1000 to 1000."""
    half = (CHART_WIDTH - LABEL_WIDTH) / 2
    zero = LABEL_WIDTH + half
    labels = {-3: "1/1000", -2: "1/100", -1: "1/10", 0: "1", 1: "10", 2: "100", 3: "1000"}
    return [Tick(zero + p / SCALE_MAX * half, labels[p]) for p in range(-3, 4)]


@dataclass(frozen=True)
class Bar:
    marker: str
    y: int
    x: float
    width: float
    positive: bool
    label: str


def chart(evidence: list[dict[str, Any]]) -> tuple[list[Bar], int]:
    """Lay out the per-marker log10 LR as horizontal bars around a zero line (clipped at ±SCALE_MAX)."""
    half = (CHART_WIDTH - LABEL_WIDTH) / 2
    zero = LABEL_WIDTH + half
    bars = []
    for i, row in enumerate(evidence):
        value = row.get("log10_lr")
        shown = -SCALE_MAX if value is None else max(-SCALE_MAX, min(SCALE_MAX, float(value)))
        width = abs(shown) / SCALE_MAX * half
        x = zero if shown >= 0 else zero - width
        label = "−∞" if value is None else f"{float(value):+.2f}"
        bars.append(Bar(str(row.get("marker", "?")), i * CHART_ROW, x, max(width, 1.0), shown >= 0, label))
    return bars, len(evidence) * CHART_ROW + CHART_ROW


@bp.get("/candidates/<int:candidate_id>")
@login_required
def candidate_page(candidate_id: int) -> ResponseReturnValue:
    s, me = db(), officer()
    candidate = require_candidate(s, me, candidate_id, "candidate.view_denied")
    review = review_of(s, candidate)
    decisions = list(
        s.execute(
            sa.select(CandidateDecision, Officer)
            .join(Officer, Officer.id == CandidateDecision.officer_id)
            .where(CandidateDecision.candidate_id == candidate.id)
            .order_by(CandidateDecision.id)
        ).all()
    )
    child, family = s.get(Case, candidate.child_case_id), s.get(Case, candidate.family_case_id)
    age = found_person_age(s, candidate)
    own_wish = needs_own_wish(s, candidate)
    audit(s, me.actor, "candidate.view", "candidate", candidate.id)
    audit_profiles_shown(s, me.actor, candidate)
    lineage = lineage_of(s, me.actor, candidate)
    s.commit()
    evidence = list(candidate.evidence or [])
    bars, height = chart(evidence)
    roles = evidence_columns(evidence)
    return render(
        "candidate.html", c=candidate, review=review, decisions=decisions, child=child, family=family,
        meaning=MEANINGS.get(candidate.band, ""), lr=combined_lr(candidate.log10_lr), evidence=evidence,
        lr_words=lr_in_words(candidate.log10_lr, language()), proposer=rejection_proposer(s, candidate),
        ticks=ticks(),
        roles=roles, bars=bars, height=height, width=CHART_WIDTH, zero=LABEL_WIDTH + (CHART_WIDTH - LABEL_WIDTH) / 2,
        age=age, own_wish=own_wish, lineage=lineage, lr_of=combined_lr,
    )  # fmt: skip


@bp.post("/candidates/<int:candidate_id>/decide")
@login_required
def decide_candidate(candidate_id: int) -> ResponseReturnValue:
    s, me = db(), officer()
    candidate = require_candidate(
        s, me, candidate_id, "candidate.decide_denied", decision=request.form.get("decision", "")[:32]
    )
    try:
        kind = DecisionKind(request.form.get("decision", ""))
    except ValueError:
        abort(400, t(N_("There is no such decision.")))
    wish_field = request.form.get("wish")
    wish = {"yes": True, "no": False}.get(wish_field or "")
    try:
        review = decide(
            s,
            candidate,
            me,
            kind,
            reason=request.form.get("reason"),
            ask_for=request.form.get("ask_for"),
            wish=wish,
        )
    except ReuniteError as exc:
        s.rollback()
        # A refused decision is audited like a refused page: who tried what, and why it was refused.
        audit(s, me.actor, "candidate.decide_refused", "candidate", candidate_id, decision=kind.value,
              reason=exc.message)  # fmt: skip
        s.commit()
        flash(t(exc.message, **exc.params))
        return redirect(url_for("console.candidate_page", candidate_id=candidate_id)), 303
    s.commit()
    flash(t(N_("Recorded: %(decision)s. The candidate is now %(state)s."), decision=label(kind),
            state=label(review.state)))  # fmt: skip
    return redirect(url_for("console.candidate_page", candidate_id=candidate_id)), 303


@bp.get("/flags")
@login_required
def flags() -> ResponseReturnValue:
    s, me = db(), officer()
    chosen = {k: request.args.get(k, "").strip()[:32] for k in ("state", "kind")}
    if chosen["state"] and chosen["state"] not in ("open", "resolved"):
        abort(400, f"unknown state {chosen['state']!r}")
    mine = flags_clause(me)
    kinds = list(s.scalars(sa.select(MatchFlag.kind).where(mine).distinct().order_by(MatchFlag.kind)))
    query = sa.select(MatchFlag).where(mine).order_by(MatchFlag.created_at.desc(), MatchFlag.id.desc())
    if chosen["kind"]:
        query = query.where(MatchFlag.kind == chosen["kind"])
    if chosen["state"]:
        done = MatchFlag.resolved_at.is_not(None)
        query = query.where(done if chosen["state"] == "resolved" else sa.not_(done))
    paged = paginate(s, query)
    found: list[MatchFlag] = paged.rows
    refs = _references(sorted({int(i) for f in found for i in (f.case_ids or [])}))
    audit(s, me.actor, "flag.list", "flag", None, shown=len(found), total=paged.total)
    links = _sample_links(s, [f.id for f in found])
    s.commit()
    return render("flags.html", flags=found, refs=refs, links=links, paged=paged, chosen=chosen, kinds=kinds)


@bp.post("/flags/<int:flag_id>/resolve")
@login_required
def resolve_flag_page(flag_id: int) -> ResponseReturnValue:
    """Resolve a flag with a note (intake.matches.queue.resolve_flag, audited); only a flag of the officer's cases."""
    s, me = db(), officer()
    flag = require_flag(s, me, flag_id, "flag.resolve_denied")
    try:
        resolve_flag(s, flag.id, actor=me.actor, note=request.form.get("note", "")[:200])
    except ReuniteError as exc:
        s.rollback()
        flash(t(exc.message, **exc.params))
        return redirect(url_for("console.flags")), 303
    s.commit()
    flash(t(N_("Flag %(flag)s is resolved."), flag=flag_id))
    return redirect(url_for("console.flags")), 303


def _sample_links(s: Session, flag_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Return the sample codes each flag linked as one person's (a person sampled twice)."""
    one, other = aliased(Sample), aliased(Sample)
    query = (
        sa.select(SampleLink.flag_id, one.code, other.code)
        .join(one, one.id == SampleLink.sample_id)
        .join(other, other.id == SampleLink.same_as_sample_id)
        .where(SampleLink.flag_id.in_(flag_ids))
        .order_by(SampleLink.id)
    )
    links: dict[int, list[tuple[str, str]]] = {}
    for flag_id, a, b in s.execute(query):
        links.setdefault(flag_id or 0, []).append((a, b))
    return links
