"""The Flask application factory: front page and health check, error handling, and the adapters' blueprints.

The web layer knows no channel: each adapter package (`sms`, `bot`, ...) names its blueprint in the
`reunite.blueprints` entry-point group of pyproject.toml, and `create_app` registers whatever is installed.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from flask import Blueprint, Flask, Response
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.platform.errors import ReuniteError
from intake.platform.settings import Settings
from intake.runtime import Runtime
from intake.web import home
from intake.web.support import json_error, status_of

MAX_REQUEST_BYTES = 64 * 1024
BLUEPRINT_GROUP = "reunite.blueprints"


def adapter_blueprints() -> list[Blueprint]:
    """Return the blueprints the installed adapters register, in entry-point name order."""
    found = sorted(entry_points(group=BLUEPRINT_GROUP), key=lambda ep: ep.name)
    blueprints: list[Blueprint] = []
    for ep in found:
        bp = ep.load()
        if not isinstance(bp, Blueprint):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a Flask Blueprint")
        blueprints.append(bp)
    return blueprints


def create_app(settings: Settings | None = None, *, rt: Runtime | None = None) -> Flask:
    """Create the web service; tests pass a Runtime on their own database."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    # Chinese error messages as characters, not \u escapes: a lab engineer reads them in curl's output.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["reunite"] = rt or Runtime.start(settings or Settings.from_env())
    if app.extensions["reunite"].settings.trust_proxy_hops:
        hops = app.extensions["reunite"].settings.trust_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    app.register_blueprint(home.bp)
    for blueprint in adapter_blueprints():
        app.register_blueprint(blueprint)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return json_error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(ReuniteError)
    def core_error(exc: ReuniteError) -> Response:
        status, code = status_of(exc)
        return json_error(status, str(exc), code)

    return app
