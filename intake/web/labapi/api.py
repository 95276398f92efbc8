"""The lab API's blueprint and the spectree instance that validates its requests and writes its OpenAPI document.

Why spectree: the API is one blueprint inside reunite's plain Flask app, next to the SMS webhook. APIFlask
generates its document from an `APIFlask` application object, and flask-smorest's `Api` takes over the whole
application (its own HTTP error handlers and config), so both would reshape the app that the other adapters
share. spectree (maintained, typed, pydantic v2) validates per view with pydantic models and builds the OpenAPI
3.1 document from those same models, working on a blueprint in any Flask app. `mode="strict"` keeps the SMS
webhook and /healthz out of the lab's document.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from intake.platform.i18n import N_
from intake.web.labapi.context import install, render
from intake.web.support import json_error

PREFIX = "/api/v1"


# What a lab reads when its body does not fit the schema, by pydantic's error type, in its own language.
_SCHEMA_MESSAGES = {
    "missing": N_("%(field)s is missing."),
    "extra_forbidden": N_("%(field)s is not a field of this request."),
    "bool_type": N_("%(field)s must be true or false (JSON true/false, not a string or a number)."),
    "int_type": N_("%(field)s must be a whole number (a JSON number, not a string)."),
    "string_type": N_("%(field)s must be a JSON string."),
    "enum": N_("%(field)s must be one of: %(expected)s."),
    "literal_error": N_("%(field)s must be one of: %(expected)s."),
    "timezone_aware": N_("%(field)s needs a time zone offset, such as 2026-11-30T14:05:00+08:00."),
}
_OTHER = N_("%(field)s: %(detail)s")


def _validation_error(
    _req: Any, _resp: Any, error: Exception | None, _instance: Any, _adapter: Any
) -> None:  # spectree's `before` hook
    if error is None:
        return
    details: list[dict[str, Any]] = getattr(error, "errors", lambda: [])()
    first: dict[str, Any] = details[0] if details else {"loc": (), "msg": str(error)}
    field = ".".join(str(part) for part in first.get("loc", ())) or "body"
    detail = str(first.get("msg", "")).removeprefix("Value error, ")
    expected = str((first.get("ctx") or {}).get("expected", ""))
    message = _SCHEMA_MESSAGES.get(str(first.get("type")), _OTHER)
    abort(json_error(422, render(message, {"field": field, "detail": detail, "expected": expected}),
                     "invalid_request"))  # fmt: skip


bp = Blueprint("labapi", __name__, url_prefix=PREFIX)
spec = SpecTree(
    "flask",
    mode="strict",
    title="reunite lab API",
    version="1",
    description="Samples, custody and STR profiles for DNA labs. Authenticate with Authorization: Bearer <key>.",
    path="apidoc",
    before=_validation_error,
    validation_error_status=422,
    security_schemes=[
        SecurityScheme(name="bearerAuth", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))
    ],
    security={"bearerAuth": []},
)
install(bp)
