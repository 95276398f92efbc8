"""What every lab API request goes through: its settings, the rate limit, the key, the session and the errors.

Settings: `settings.lab_api` (REUNITE_LAB_API_RATE_LIMIT, REUNITE_LAB_API_RATE_LIMIT_STORAGE,
REUNITE_LAB_API_MIN_MARKERS, REUNITE_LAB_API_MAX_IMPORT_BYTES; docs/configuration.md), copied into `app.config`
when the blueprint is registered, where tests may override them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.blueprints import BlueprintSetupState
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from intake.labs.errors import ForbiddenError, ProfileRejectedError, SampleCodeError, UnknownSampleError
from intake.labs.keys import authenticate
from intake.models import LabKey, audit
from intake.platform.errors import InputError, ReuniteError
from intake.platform.i18n import N_, _, translate
from intake.web.support import json_error, runtime, status_of

log = logging.getLogger(__name__)
PUBLIC_ENDPOINTS = {"openapi_document"}
FILE_ENDPOINTS = {"import_genemapper", "import_genemapper_y"}  # their body is a GeneMapper file, not JSON
UNAUTHENTICATED = {"unknown_key", "revoked_key", "expired_key", "no_key"}


def setting(name: str) -> str:
    """Return a lab API setting of the current app."""
    return str(current_app.config[name])


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _limit_key() -> str:
    # Flask-Limiter checks before any view runs, so the key is read from the header, not from the database.
    token = _bearer()
    return "key:" + hashlib.sha256(token.encode()).hexdigest()[:24] if token else "ip:" + get_remote_address()


def install(bp: Blueprint) -> None:
    """Give each app that registers `bp` its settings and its own rate limiter for the blueprint."""

    def setup(state: BlueprintSetupState) -> None:
        app = cast(Flask, state.app)
        settings = app.extensions["reunite"].settings.lab_api
        app.config.setdefault("LAB_API_RATE_LIMIT", settings.rate_limit)
        app.config.setdefault("LAB_API_RATE_LIMIT_STORAGE", settings.rate_limit_storage)
        app.config.setdefault("LAB_API_MIN_MARKERS", settings.min_markers)
        app.config.setdefault("LAB_API_MAX_IMPORT_BYTES", settings.max_import_bytes)
        limiter = Limiter(
            _limit_key, storage_uri=app.config["LAB_API_RATE_LIMIT_STORAGE"], headers_enabled=True
        )
        limiter.init_app(app)
        # Flask-Limiter checks before every request of the app: the webhooks' must not pay for the lab API's
        limiter.request_filter(lambda: request.blueprint != bp.name)
        limiter.limit(lambda: setting("LAB_API_RATE_LIMIT"), on_breach=_audit_rate_limited)(bp)
        app.extensions["reunite_lab_api_limiter"] = limiter

    bp.record_once(setup)
    bp.before_request(_authenticate)
    bp.before_request(_readable_json)
    bp.teardown_request(_close_session)
    bp.register_error_handler(ReuniteError, _core_error)
    bp.register_error_handler(413, _too_large)


def session() -> Session:
    """Return this request's database session (opened on first use, closed when the request ends)."""
    if "lab_session" not in g:
        g.lab_session = runtime().session_factory()
    s: Session = g.lab_session
    return s


def lab_key() -> LabKey:
    """Return the key the request authenticated with."""
    key: LabKey = g.lab_key
    return key


def actor() -> str:
    """Return the audit actor of this request: the acting lab key."""
    return f"labkey:{lab_key().id}"


def _endpoint() -> str:
    return (request.endpoint or "").rsplit(".", 1)[-1]


def _authenticate() -> Response | None:
    if request.endpoint and request.endpoint.rsplit(".", 1)[-1] in PUBLIC_ENDPOINTS:
        return None
    if _endpoint() in FILE_ENDPOINTS:
        request.max_content_length = int(setting("LAB_API_MAX_IMPORT_BYTES"))
    token = _bearer()
    if token is None:
        raise ForbiddenError("no_key", N_("Send your lab's API key as Authorization: Bearer <key>."))
    g.lab_key = authenticate(session(), token)
    return None


def _readable_json() -> Response | None:
    # The body of every JSON route is read here, whatever its Content-Type says. curl's `-d @profile.json` sends
    # it as application/x-www-form-urlencoded, and spectree then sees no JSON at all: a body that parses as JSON
    # is taken as JSON; one that does not is refused with the reason (400 if it said JSON, else 415).
    if request.method not in ("POST", "PUT", "PATCH") or _endpoint() in PUBLIC_ENDPOINTS | FILE_ENDPOINTS:
        return None
    data = request.get_data()  # over the size limit: 413 (`_too_large`)
    try:
        if data:  # an empty body is read as {}: the schema says which fields are missing
            json.loads(data.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        if not request.is_json:
            message = N_("The body must be JSON, sent with Content-Type: application/json (this one is %(type)s and "
                         "is not JSON).")  # fmt: skip
            return json_error(
                415, render(message, {"type": request.mimetype or "-"}), "unsupported_media_type"
            )
        raise InputError(
            N_("The request body is not valid JSON in UTF-8: %(problem)s."), problem=str(exc)[:120]
        ) from exc
    if not request.is_json:
        request.environ["CONTENT_TYPE"] = "application/json"
        request.__dict__.pop("_parsed_content_type", None)  # werkzeug caches the parsed header
    return None


def _too_large(_exc: Exception) -> Response:
    limit = request.max_content_length or 0
    message = N_("The body is larger than %(limit)s bytes, the limit of this request (%(what)s).")
    what = (
        _("a GeneMapper file: REUNITE_LAB_API_MAX_IMPORT_BYTES")
        if _endpoint() in FILE_ENDPOINTS
        else _("a JSON body: 64 KB")
    )
    return json_error(413, render(message, {"limit": limit, "what": what}), "too_large")


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("lab_session", None)
    if s is not None:
        s.rollback()
        s.close()


def language() -> str:
    """Return the language of the reader: Chinese if Accept-Language asks for it, else English."""
    return "zh_CN" if request.accept_languages.best_match(["en", "zh"], default="en") == "zh" else "en"


def render(message: str, params: dict[str, Any]) -> str:
    """Return a core message in the reader's language."""
    return translate(language(), message, **params)


def _audit_refusal(action: str, **detail: Any) -> None:
    """Audit a refused request in its own transaction (the request's own is rolled back, its work refused)."""
    key = g.get("lab_key")
    who = (
        f"labkey:{key.id}" if key is not None else f"labapi:{_limit_key()}"
    )  # read before the rollback expires it
    if "lab_session" in g:
        g.lab_session.rollback()
    try:
        with runtime().session_factory() as s:
            audit(s, who, action, None, None, method=request.method, path=request.path[:200], **detail)
            s.commit()
    except SQLAlchemyError:  # the refusal is still answered; the database outage is logged where it happens
        log.exception("could not audit a refused lab API request")


def _audit_rate_limited(limit: RequestLimit) -> None:
    # Guessing keys or sample codes ends here: every request over the limit is refused with 429, and audited.
    _audit_refusal("labapi.rate_limited", limit=str(limit.limit))


def _core_error(exc: ReuniteError) -> Response:
    status, code = status_of(exc)
    code = getattr(exc, "code", None) or code
    if isinstance(exc, ForbiddenError | SampleCodeError | UnknownSampleError):
        _audit_refusal("labapi.refused", code=code)  # a wrong key, another lab's sample, a guessed code
    if isinstance(exc, ForbiddenError):
        status = 401 if exc.code in UNAUTHENTICATED else 403
    elif isinstance(exc, ProfileRejectedError):
        status = 422
    response = json_error(status, render(exc.message, exc.params), code)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="reunite lab API"'
    return response
