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

from intake.web.labapi.context import install
from intake.web.support import json_error

PREFIX = "/api/v1"


def _validation_error(
    _req: Any, _resp: Any, error: Exception | None, _instance: Any, _adapter: Any
) -> None:  # spectree's `before` hook
    if error is None:
        return
    details: list[dict[str, Any]] = getattr(error, "errors", lambda: [])()
    first = details[0] if details else {"loc": (), "msg": str(error)}
    where = ".".join(str(part) for part in first.get("loc", ()))
    abort(
        json_error(422, f"{where}: {first.get('msg')}" if where else str(first.get("msg")), "invalid_request")
    )


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
