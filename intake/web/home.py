"""The service's front door: `GET /` says what reunite is and links to `/healthz`, which reports its state.

A newcomer who runs `make run` and opens the URL lands on `/`; monitoring and load balancers poll `/healthz`.
Both answer JSON to a client that asks for it; `/` answers HTML to a browser, in the language it prefers.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template_string, request, url_for

from intake.platform.i18n import CHINESE, ENGLISH, N_, normalise_language, translate
from intake.runtime import kinship_kernel
from intake.web.support import runtime

bp = Blueprint("home", __name__)

TITLE = N_("reunite: finding missing children with DNA")
ABOUT = N_(
    "This service helps find missing and trafficked children with DNA. Parents report a missing child by SMS"
    " and book a DNA sampling appointment; labs upload DNA profiles; officers review possible matches before"
    " any family is told."
)
FOR_MACHINES = N_("This address is for machines (the SMS provider, monitoring); parents use SMS.")
HEALTH = N_("Health check")

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><p>{{ about }}</p><p>{{ for_machines }}</p>
<p><a href="{{ health_url }}">{{ health }}</a>: {{ health_url }}</p></body></html>
"""


def _wants_json() -> bool:
    """Tell whether the client prefers JSON to HTML (a browser sends text/html first; curl sends */*)."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _language() -> str:
    """Return the page's language from Accept-Language (Chinese unless English is preferred)."""
    return normalise_language(request.accept_languages.best_match(["zh-CN", "zh", "en"]))


@bp.get("/")
def index() -> Response | str:
    """Say what the service is and where its health check is."""
    lang = _language()
    health_url = url_for("home.healthz")
    if _wants_json():
        return jsonify(
            service="reunite",
            about=translate(lang, ABOUT),
            links={"health": health_url},
        )
    return render_template_string(
        PAGE,
        lang="zh-CN" if lang == CHINESE else ENGLISH,
        title=translate(lang, TITLE),
        about=translate(lang, ABOUT),
        for_machines=translate(lang, FOR_MACHINES),
        health=translate(lang, HEALTH),
        health_url=health_url,
    )


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the database answers, and which kinship kernel this installation runs."""
    ok, detail = runtime().database_ok()
    body = jsonify(status="ok" if ok else "error", database=detail, kinship_kernel=kinship_kernel())
    return body, 200 if ok else 503
