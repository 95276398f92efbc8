"""Helpers every web blueprint shares: the runtime of the current app and JSON error responses."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from intake.runtime import Runtime


def runtime() -> Runtime:
    """Return the Runtime of the current Flask app."""
    rt: Runtime = current_app.extensions["reunite"]
    return rt


def json_error(status: int, reason: str) -> Response:
    """Return a JSON error body `{"error": reason}` with `status`."""
    response = jsonify(error=reason)
    response.status_code = status
    return response
