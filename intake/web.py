"""The Flask application factory: health check, error handling and every channel's blueprint."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.config import Settings
from intake.errors import ReuniteError
from intake.runtime import Runtime
from intake.web_support import json_error, runtime

MAX_REQUEST_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, *, rt: Runtime | None = None) -> Flask:
    """Create the web service; tests pass a Runtime on their own database."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.extensions["reunite"] = rt or Runtime.start(settings or Settings.from_env())
    if app.extensions["reunite"].settings.trust_proxy_hops:
        hops = app.extensions["reunite"].settings.trust_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    from sms.webhook import bp as sms_bp

    app.register_blueprint(sms_bp)

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        ok, detail = runtime().database_ok()
        return jsonify(status="ok" if ok else "error", database=detail), 200 if ok else 503

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return json_error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(ReuniteError)
    def core_error(exc: ReuniteError) -> Response:
        return json_error(exc.http_status, str(exc))

    @app.errorhandler(UnicodeDecodeError)
    def bad_encoding(_exc: Any) -> Response:
        return json_error(400, "The request is not valid UTF-8.")

    return app
