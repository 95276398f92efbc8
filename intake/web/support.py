"""Helpers every web blueprint shares: the runtime of the current app, JSON errors and the core errors' statuses."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from intake.platform.errors import (
    ConflictError,
    ConsentRequiredError,
    InputError,
    NotFoundError,
    ReuniteError,
)
from intake.runtime import Runtime

# The web layer, not the core, decides which HTTP status a core error becomes.
STATUS_OF_ERROR: tuple[tuple[type[ReuniteError], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (ConsentRequiredError, 403, "consent_required"),
    (InputError, 400, "bad_request"),
    (ReuniteError, 400, "bad_request"),
)

_CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    503: "unavailable",
}


def runtime() -> Runtime:
    """Return the Runtime of the current Flask app."""
    rt: Runtime = current_app.extensions["reunite"]
    return rt


def json_error(status: int, message: str, code: str | None = None) -> Response:
    """Return `{"error": {"code": ..., "message": ...}}` with `status`; the code defaults from the status."""
    response = jsonify(error={"code": code or _CODE_OF_STATUS.get(status, "error"), "message": message})
    response.status_code = status
    return response


def status_of(exc: ReuniteError) -> tuple[int, str]:
    """Return the HTTP status and error code for a core error."""
    for cls, status, code in STATUS_OF_ERROR:
        if isinstance(exc, cls):
            return status, code
    return 400, "bad_request"  # pragma: no cover - ReuniteError is last in the table
